package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// EdgeSource lists the edges the gateway should route to. Implementations
// must be safe for concurrent use.
type EdgeSource interface {
	ListEdges(ctx context.Context) ([]Edge, error)
}

// NodeLister is the part of the control-plane client discovery needs;
// edgelabv1.ControlPlaneServiceClient satisfies it.
type NodeLister interface {
	ListNodes(ctx context.Context, in *edgelabv1.ListNodesRequest, opts ...grpc.CallOption) (*edgelabv1.ListNodesResponse, error)
}

// ControlPlaneSource discovers edges through the control plane's ListNodes,
// asking each replica in turn until one answers. Nodes without an HTTP URL
// are skipped.
type ControlPlaneSource struct {
	// Replicas are asked in order; the first answer wins.
	Replicas []NodeLister
}

var _ EdgeSource = (*ControlPlaneSource)(nil)

// ListEdges implements EdgeSource.
func (s *ControlPlaneSource) ListEdges(ctx context.Context) ([]Edge, error) {
	if len(s.Replicas) == 0 {
		return nil, errors.New("gateway: no control-plane replica configured")
	}
	var errs []error
	for i, cp := range s.Replicas {
		resp, err := cp.ListNodes(ctx, &edgelabv1.ListNodesRequest{})
		if err != nil {
			errs = append(errs, fmt.Errorf("replica %d: %w", i, err))
			continue
		}
		out := make([]Edge, 0, len(resp.GetNodes()))
		for _, n := range resp.GetNodes() {
			if n.GetHttpUrl() == "" || n.GetId() == "" || n.GetRegion() == "" {
				continue
			}
			out = append(out, Edge{ID: n.GetId(), Region: n.GetRegion(), PoP: n.GetPop(), URL: n.GetHttpUrl()})
		}
		return out, nil
	}
	return nil, fmt.Errorf("gateway: listing nodes: %w", errors.Join(errs...))
}

// RunDiscovery polls src every interval (default 2s) until ctx is done and
// routes to static plus discovered edges (a discovered edge replaces a static
// one with the same ID). When src fails, or returns an edge list SetEdges
// rejects, the previous list stays in force: the gateway keeps serving
// while the control plane is away.
func (g *Gateway) RunDiscovery(ctx context.Context, src EdgeSource, static []Edge, interval time.Duration) {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		g.discoverOnce(ctx, src, static)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (g *Gateway) discoverOnce(ctx context.Context, src EdgeSource, static []Edge) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	found, err := src.ListEdges(cctx)
	if err != nil {
		if ctx.Err() == nil {
			g.log.Warn("edge discovery failed; keeping the current edges", "err", err)
		}
		return
	}
	merged := make([]Edge, 0, len(static)+len(found))
	idx := make(map[string]int, len(static)+len(found))
	for _, e := range append(append([]Edge(nil), static...), found...) {
		if i, ok := idx[e.ID]; ok {
			merged[i] = e
			continue
		}
		idx[e.ID] = len(merged)
		merged = append(merged, e)
	}
	if err := g.SetEdges(merged); err != nil {
		g.log.Warn("discovered edges rejected; keeping the current edges", "err", err)
	}
}
