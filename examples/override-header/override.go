// Package overrideheader changes response headers at viewer-response: the
// origin's X-Amz-Meta-Last-Modified metadata becomes the Last-Modified the
// viewer sees, and Server is replaced.
package overrideheader

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

// ViewerResponse overrides the headers.
func ViewerResponse(ctx context.Context, req *edge.Request, resp *edge.Response) error {
	if lm := resp.Header.Get("X-Amz-Meta-Last-Modified"); lm != "" {
		resp.Header.Set("Last-Modified", lm)
		resp.Header.Del("X-Amz-Meta-Last-Modified")
	}
	resp.Header.Set("Server", "edgelab")
	return nil
}
