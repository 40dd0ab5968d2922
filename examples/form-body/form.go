// Package formbody reads and replaces an HTML form body at viewer-request
// (the association must set includeBody): values are trimmed, an empty
// comment is rejected with 400, a truncated body with 413, and the origin
// receives the cleaned form plus a processed-by field.
package formbody

import (
	"context"
	"net/url"
	"strings"

	"github.com/edgelab/edgelab/edge"
)

// ViewerRequest validates and rewrites POSTed forms.
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	if req.Method != "POST" || req.Body == nil {
		return nil, nil
	}
	if req.Body.Truncated {
		return edge.NewResponse(413, "form too large"), nil
	}
	form, err := url.ParseQuery(string(req.Body.Data))
	if err != nil {
		return edge.NewResponse(400, "malformed form"), nil
	}
	clean := url.Values{}
	for k, vs := range form {
		for _, v := range vs {
			clean.Add(k, strings.TrimSpace(v))
		}
	}
	if clean.Get("comment") == "" {
		return edge.NewResponse(400, "comment is required"), nil
	}
	clean.Set("processed-by", "edgelab")
	edge.Logf(ctx, "form-body: %d fields", len(form))
	req.Body.Data = []byte(clean.Encode())
	req.Body.Replace = true
	return nil, nil
}
