package replica

import (
	"context"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// HandleForTest processes one stream message as a session would and returns
// the ack it would send (tests and benchmarks drive the client without a network).
func (c *Client) HandleForTest(ctx context.Context, m *edgelabv1.StreamResponse) *edgelabv1.Ack {
	return c.handle(ctx, m)
}
