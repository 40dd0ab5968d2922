// Package hello is the e2e smoke test's viewer-request function: it tags the
// request and lets it continue to the cache and origin.
package hello

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

// ViewerRequest adds X-Hello and continues.
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	req.Header.Set("X-Hello", "edgelab")
	return nil, nil
}
