package controlplane

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"

	"github.com/edgelab/edgelab/edgenode/replica"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// BenchmarkPublishToAllAcked attaches many lightweight simulated nodes
// (replica.Client with a no-op Applier, no HTTP, no disk) to one control
// plane with the delay model off, and measures publish -> every node's ACK
// recorded by the control plane. Reports p50/p99 in ms.
//
//	go test -run '^$' -bench PublishToAllAcked -benchtime 30x ./controlplane/
func BenchmarkPublishToAllAcked(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			l := newLab(b, 1, nil, "instant")
			cp := l.cps[0]
			noop := replica.ApplierFunc(func(context.Context, *edgelabv1.Snapshot, []*edgelabv1.Invalidation) error { return nil })
			for i := range n {
				c, err := replica.New(replica.Config{
					NodeID: fmt.Sprintf("sim-%04d", i), Region: regions5[i%len(regions5)], Endpoints: []string{cp.addr},
					Applier: noop, Logger: quietLogger(), HeartbeatInterval: 5 * time.Second,
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
			rev := l.putDist(b, "warmup")
			poll.True(b, 60*time.Second, "all nodes attached and acked", func() bool { return allAt(rev) })
			var lat []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				rev := l.putDist(b, "d", fmt.Sprintf("f:%d", i))
				for !allAt(rev) {
					if time.Since(start) > 30*time.Second {
						b.Fatalf("publish %d not acked by all nodes in 30s", i)
					}
					time.Sleep(500 * time.Microsecond)
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
