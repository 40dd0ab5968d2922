// Package normalizequery lowercases and sorts the query string at
// viewer-request, so ?Size=LARGE&color=red and ?color=red&size=large share
// one cache entry.
package normalizequery

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

// ViewerRequest normalizes the query string.
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	req.QueryString = edge.NormalizeQuery(req.QueryString)
	return nil, nil
}
