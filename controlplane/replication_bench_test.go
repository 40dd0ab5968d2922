package controlplane

import (
	"context"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/test/bufconn"

	"github.com/edgelab/edgelab/internal/poll"

	"github.com/edgelab/edgelab/edgenode/replica"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// BenchmarkPublishToAllAcked attaches many lightweight simulated nodes
// (replica.Client with a no-op Applier, no HTTP, no disk) to one control
// plane with the delay model off, and measures publish -> every node's ACK
// recorded by the control plane. Reports p50/p99 in ms. Targets: p99 <= 200 ms
// at 1,000 nodes and <= 2 s at 10,000 nodes on a quiet machine.
//
//	go test -run '^$' -bench PublishToAllAcked -benchtime 30x ./controlplane/
func BenchmarkPublishToAllAcked(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			l := newLab(b, 1, nil, "instant")
			cp := l.cps[0]
			noop := replica.ApplierFunc(func(context.Context, *edgelabv1.Snapshot, []*edgelabv1.Invalidation) error { return nil })
			dial := memDialer(b, cp, n)
			for i := range n {
				c, err := replica.New(replica.Config{
					NodeID: fmt.Sprintf("sim-%05d", i), Region: regions5[i%len(regions5)], Endpoints: []string{cp.addr},
					Applier: noop, Logger: quietLogger(), HeartbeatInterval: 5 * time.Second, DialOptions: append(plaintext(), dial...),
				})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() { defer close(done); _ = c.Run(ctx) }()
				b.Cleanup(func() { cancel(); <-done })
			}
			allAt := func(rev int64) bool {
				revs := cp.r.nodes.appliedRevisions()
				if len(revs) < n {
					return false
				}
				for _, r := range revs {
					if r < rev {
						return false
					}
				}
				return true
			}
			setup := time.Now()
			rev := l.putDist(b, "warmup")
			poll.True(b, 5*time.Minute, "all nodes attached and acked", func() bool { return allAt(rev) })
			b.Logf("%d nodes attached and acked in %v", n, time.Since(setup).Round(time.Millisecond))
			// Reading every node's revision costs O(n): poll less often with more nodes.
			pause := max(500*time.Microsecond, time.Duration(n/2)*time.Microsecond)
			var lat []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				rev := l.putDist(b, "d", fmt.Sprintf("f:%d", i))
				for !allAt(rev) {
					if time.Since(start) > 30*time.Second {
						b.Fatalf("publish %d not acked by all nodes in 30s", i)
					}
					time.Sleep(pause)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}

// memDialer returns dial options that reach cp over an in-memory listener
// when n nodes over loopback TCP would need more file descriptors than a
// process usually has (two sockets per node); nil (loopback TCP) otherwise.
func memDialer(b *testing.B, cp *cpReplica, n int) []grpc.DialOption {
	if n <= 1000 {
		return nil
	}
	lis := bufconn.Listen(1 << 20)
	go func() { _ = cp.srv.Serve(lis) }()
	b.Cleanup(func() { _ = lis.Close() })
	return []grpc.DialOption{grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) })}
}
