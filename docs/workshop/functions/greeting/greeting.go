// Package greeting is the workshop's first edge function (lab 2): a
// viewer-request handler that answers /greet?name=NAME at the edge with a
// plain-text greeting naming the PoP and region that served it. The origin
// is never contacted and, as with every viewer-request generated response,
// nothing is cached.
package greeting

import (
	"context"
	"strings"

	"github.com/edgelab/edgelab/edge"
)

// maxName bounds the name echoed back, so a hostile query cannot make the
// generated response large.
const maxName = 64

// ViewerRequest greets the viewer. Other paths continue to the cache and the
// origin unchanged.
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	if req.URI != "/greet" {
		return nil, nil
	}
	name := strings.TrimSpace(edge.ParseQuery(req.QueryString).Get("name"))
	if name == "" {
		name = "world"
	}
	if len(name) > maxName {
		name = name[:maxName]
	}
	info := edge.InfoFrom(ctx)
	edge.Logf(ctx, "greeting: %q at %s", name, info.PoP)
	resp := edge.NewResponse(200, "Hello, "+name+", from "+info.PoP+" ("+info.Region+")\n")
	resp.SetHeader("Cache-Control", "no-store")
	return resp, nil
}
