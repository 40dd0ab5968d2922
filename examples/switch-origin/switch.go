// Package switchorigin picks the origin at origin-request from the
// "origin" query parameter (e.g. ?origin=b), e.g. to try a new backend.
// The cache policy must include the parameter so each origin's answers are
// cached apart. The lab's two sample origins listen on the ports below;
// adjust Origins for your distribution.
package switchorigin

import (
	"context"
	"strings"

	"github.com/edgelab/edgelab/edge"
)

// Origins maps the parameter's values to origin base URLs.
var Origins = map[string]string{
	"a": "http://127.0.0.1:9001",
	"b": "http://127.0.0.1:9002",
}

// OriginRequest switches the origin when asked to.
func OriginRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	choice := edge.ParseQuery(req.QueryString).Get("origin")
	target, ok := Origins[choice]
	if !ok || req.Origin == nil {
		return nil, nil
	}
	o, err := edge.NewCustomOrigin(target)
	if err != nil {
		return nil, err
	}
	req.Origin = o
	req.Header.Set("Host", strings.TrimPrefix(target, "http://"))
	edge.Logf(ctx, "switch-origin: %s -> %s", req.URI, target)
	return nil, nil
}
