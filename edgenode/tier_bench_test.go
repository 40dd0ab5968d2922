package edgenode

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// BenchmarkTierRECHit puts side by side, with no latency model, a PoP
// miss to a local origin (one tier) and a PoP miss that hits at the REC
// (two tiers): every request is a new object at the PoP. It reports the
// p50 of each; the REC hit adds one loopback hop.
//
//	go test -run '^$' -bench TierRECHit ./edgenode/
func BenchmarkTierRECHit(b *testing.B) {
	o := newCountingOrigin(b, okHandler("max-age=600"))
	snap := snapshot(1, o.URL, "", &edgelabv1.Behavior{})
	b.Run("pop-miss-local-origin", func(b *testing.B) {
		pop := startNode(b, newFakeRunner(), nil)
		if err := pop.Apply(b.Context(), snap, nil); err != nil {
			b.Fatal(err)
		}
		benchP50(b, pop, "one", nil)
	})
	b.Run("rec-hit", func(b *testing.B) {
		tn := newTierNet(b, snap, newFakeRunner(), newFakeRunner(), "A1", "A2")
		benchP50(b, tn.pops["A1"], "two", func(path string) { getBody(b, tn.pops["A2"].URL()+path) })
	})
}

// benchP50 times b.N GETs of new paths on n (warm, when set, fetches each
// path elsewhere first, untimed) and reports their p50.
func benchP50(b *testing.B, n *Node, prefix string, warm func(path string)) {
	paths := make([]string, b.N)
	for i := range paths {
		paths[i] = fmt.Sprintf("/%s/%d/%d", prefix, b.N, i)
		if warm != nil {
			warm(paths[i])
		}
	}
	getBody(b, n.URL()+"/warm-connection")
	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	for i, p := range paths {
		start := time.Now()
		getBody(b, n.URL()+p)
		lat[i] = time.Since(start)
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
}

func getBody(b *testing.B, url string) {
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
}
