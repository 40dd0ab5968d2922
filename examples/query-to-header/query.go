// Package querytoheader turns selected query parameters into request
// headers at viewer-request, so the origin (and a cache policy keyed on the
// header) sees them; the parameters are removed from the query string.
package querytoheader

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

// forwarded maps query parameter names to header names.
var forwarded = map[string]string{
	"lang":   "X-Lang",
	"device": "X-Device",
}

// ViewerRequest moves the parameters.
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	q := edge.ParseQuery(req.QueryString)
	changed := false
	for param, header := range forwarded {
		if v := q.Get(param); v != "" {
			req.Header.Set(header, v)
		}
		if _, ok := q[param]; ok {
			q.Del(param)
			changed = true
		}
	}
	if changed {
		req.QueryString = edge.EncodeQuery(q)
	}
	return nil, nil
}
