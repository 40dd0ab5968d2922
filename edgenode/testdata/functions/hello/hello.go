// Package hello is a test function: it tags viewer responses.
package hello

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

// ViewerResponse adds X-Hello.
func ViewerResponse(ctx context.Context, req *edge.Request, resp *edge.Response) error {
	resp.Header.Set("X-Hello", "world")
	return nil
}
