package labapi

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/edgelab/edgelab/chaos/history"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// slowFirstCP answers ListNodes with the node's applied revision at the
// moment each call arrives; the first call is held until release closes,
// as an RPC to a slow replica would be.
type slowFirstCP struct {
	edgelabv1.ControlPlaneServiceClient
	mu      sync.Mutex
	calls   int
	applied int64
	arrived chan struct{} // closed when the first call has read its answer
	release chan struct{}
}

func (f *slowFirstCP) ListNodes(ctx context.Context, _ *edgelabv1.ListNodesRequest, _ ...grpc.CallOption) (*edgelabv1.ListNodesResponse, error) {
	f.mu.Lock()
	f.calls++
	first, rev := f.calls == 1, f.applied
	f.mu.Unlock()
	if first {
		close(f.arrived)
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return &edgelabv1.ListNodesResponse{Nodes: []*edgelabv1.Node{{Id: "n1", AppliedRevision: rev}}}, nil
}

// TestSampleFoldsInAskOrder: a ListNodes answer that returns late is not
// recorded after a newer one. The first sample reads revision 685 and is
// held; the node then applies 792 and a second sample starts. The history
// must read 685 then 792, never 792 then 685.
func TestSampleFoldsInAskOrder(t *testing.T) {
	cp := &slowFirstCP{applied: 685, arrived: make(chan struct{}), release: make(chan struct{})}
	l := &Lab{cp: cp, nodes: map[string]*history.NodeHistory{}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	first := make(chan error, 1)
	go func() { _, err := l.sample(ctx); first <- err }()
	<-cp.arrived
	cp.mu.Lock()
	cp.applied = 792
	cp.mu.Unlock()
	second := make(chan error, 1)
	go func() { _, err := l.sample(ctx); second <- err }()
	// Let the second sample run as far as it can while the first is held.
	select {
	case err := <-second:
		t.Fatalf("the second sample finished (%v) while the first was still waiting for its answer", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(cp.release)
	for _, ch := range []chan error{first, second} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	var got []int64
	for _, a := range l.nodes["n1"].Applied {
		got = append(got, a.Revision)
	}
	if len(got) != 2 || got[0] != 685 || got[1] != 792 {
		t.Fatalf("applied history %v, want [685 792]", got)
	}
}
