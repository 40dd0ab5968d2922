package dashboard

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// versionMetrics registers the per-version and latency series of an edge
// node as edgenode/metrics.go names them.
type versionMetrics struct {
	requests *prometheus.CounterVec
	latency  prometheus.Histogram
	invoc    *prometheus.CounterVec
	dur      *prometheus.HistogramVec
	cold     *prometheus.CounterVec
	timeouts *prometheus.CounterVec
	memKills *prometheus.CounterVec
	memory   *prometheus.GaugeVec
	used     *prometheus.GaugeVec
}

func newVersionMetrics(reg *prometheus.Registry, node string) versionMetrics {
	r := prometheus.WrapRegistererWith(prometheus.Labels{"node": node}, reg)
	fv := []string{"function", "version"}
	buckets := []float64{0.001, 0.01, 0.1, 1}
	m := versionMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricRequests, Help: "h"}, []string{"result", "status"}),
		latency:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: metricRequestDur, Help: "h", Buckets: buckets}),
		invoc:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricInvocations, Help: "h"}, []string{"function", "version", "event", "outcome"}),
		dur:      prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: metricVersionDur, Help: "h", Buckets: buckets}, fv),
		cold:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricColdStarts, Help: "h"}, fv),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricTimeouts, Help: "h"}, fv),
		memKills: prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricMemoryKills, Help: "h"}, fv),
		memory:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metricMemoryLimit, Help: "h"}, fv),
		used:     prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metricMemoryUsed, Help: "h"}, fv),
	}
	r.MustRegister(m.requests, m.latency, m.invoc, m.dur, m.cold, m.timeouts, m.memKills, m.memory, m.used)
	return m
}

// TestRequestLatencyFromNodeHistograms: p50/p99 of a node's and a
// region's points come from the request-duration buckets observed within
// the window, not from the node's lifetime.
func TestRequestLatencyFromNodeHistograms(t *testing.T) {
	src := &fakeSource{reg: prometheus.NewRegistry()}
	h, clk := newTestHub(t, src)
	src.nodes = []*edgelabv1.Node{node("a", "us-east-1", 0, true, clk.now()), node("b", "us-east-1", 0, true, clk.now())}
	a, b := newVersionMetrics(src.reg, "a"), newVersionMetrics(src.reg, "b")
	for range 100 { // before the window: slow, must not count
		a.latency.Observe(0.5)
	}
	h.refresh(context.Background())
	for range 99 {
		a.latency.Observe(0.005) // 1..10 ms
		b.latency.Observe(0.005)
	}
	a.latency.Observe(0.05) // 10..100 ms: a's p99, not b's
	b.latency.Observe(0.005)
	clk.add(3 * time.Second)
	h.refresh(context.Background())
	s, _ := h.Latest()
	lastOf := func(ps []Point) Point {
		if len(ps) == 0 {
			t.Fatal("no points")
		}
		return ps[len(ps)-1]
	}
	var pa, pb Point
	for _, n := range s.Traffic.Nodes {
		switch n.Name {
		case "a":
			pa = lastOf(n.Points)
		case "b":
			pb = lastOf(n.Points)
		}
	}
	in := func(what string, v Num, lo, hi float64) {
		t.Helper()
		if f := float64(v); math.IsNaN(f) || f < lo || f > hi {
			t.Errorf("%s = %v ms, want within %v..%v", what, v, lo, hi)
		}
	}
	in("node a p50", pa.P50Ms, 1, 10)
	in("node a p99", pa.P99Ms, 1, 100)
	in("node b p99", pb.P99Ms, 1, 10)
	in("region p50", lastOf(s.Traffic.Regions[0].Points).P50Ms, 1, 10)
	if pa.P99Ms <= pb.P99Ms {
		t.Errorf("node a p99 %v ms not above node b's %v ms (a had one slower request)", pa.P99Ms, pb.P99Ms)
	}
}

// TestFunctionsPerVersion: each function version has its own row with
// its counts, quantiles, memory and the nodes holding it; the function's
// row sums its versions.
func TestFunctionsPerVersion(t *testing.T) {
	src := &fakeSource{reg: prometheus.NewRegistry()}
	h, clk := newTestHub(t, src)
	src.nodes = []*edgelabv1.Node{node("a", "us-east-1", 0, true, clk.now()), node("b", "eu-west-1", 0, true, clk.now())}
	a, b := newVersionMetrics(src.reg, "a"), newVersionMetrics(src.reg, "b")
	a.memory.WithLabelValues("auth", "3").Set(256 << 20)
	b.memory.WithLabelValues("auth", "3").Set(256 << 20)
	a.memory.WithLabelValues("auth", "2").Set(128 << 20) // a still holds the old one
	a.used.WithLabelValues("auth", "3").Set(20 << 20)
	b.used.WithLabelValues("auth", "3").Set(30 << 20) // the largest worker counts
	a.invoc.WithLabelValues("auth", "3", "viewer-request", "continue").Add(7)
	b.invoc.WithLabelValues("auth", "3", "viewer-request", "LambdaExecutionError").Add(3)
	b.timeouts.WithLabelValues("auth", "3").Add(2)
	b.memKills.WithLabelValues("auth", "3").Add(1)
	a.cold.WithLabelValues("auth", "3").Add(1)
	a.invoc.WithLabelValues("auth", "2", "viewer-request", "continue").Add(5)
	for range 10 {
		a.dur.WithLabelValues("auth", "3").Observe(0.005)
		a.dur.WithLabelValues("auth", "2").Observe(0.5)
	}
	h.refresh(context.Background())
	s, _ := h.Latest()
	rows := map[int64]FunctionVersion{}
	for _, v := range s.Functions.Versions {
		if v.Function == "auth" {
			rows[v.Version] = v
		}
	}
	v3, v2 := rows[3], rows[2]
	if v3.Invocations != 10 || v3.ExecutionErrors != 3 || v3.Timeouts != 2 || v3.MemoryExceeded != 1 || v3.ColdStarts != 1 ||
		v3.MemoryMB != 256 || v3.MemoryUsedMB != 30 || !v3.Latest || len(v3.Nodes) != 2 || len(v3.Associated) != 1 || v3.Associated[0] != "demo" {
		t.Errorf("auth:3 %+v", v3)
	}
	if v2.Invocations != 5 || v2.MemoryMB != 128 || !math.IsNaN(float64(v2.MemoryUsedMB)) || v2.Latest || len(v2.Nodes) != 1 || v2.Nodes[0] != "a" || len(v2.Associated) != 0 {
		t.Errorf("auth:2 %+v", v2)
	}
	if v3.P50Ms < 1 || v3.P50Ms > 10 || v2.P99Ms < 100 || v2.P99Ms > 1000 {
		t.Errorf("quantiles: auth:3 p50 %v ms, auth:2 p99 %v ms", v3.P50Ms, v2.P99Ms)
	}
	if len(s.Functions.Versions) == 0 || s.Functions.Versions[0].Version != 3 {
		t.Errorf("versions not newest first: %+v", s.Functions.Versions)
	}
	for _, f := range s.Functions.Functions {
		if f.Name == "auth" && (f.Invocations != 15 || len(f.Nodes) != 2) {
			t.Errorf("function auth %+v, want the sum of its versions", f)
		}
	}
}

// TestTiersInNetworkAndRollout: each node carries its tier, the Network
// view counts nodes per tier (PoPs first) and a rollout keeps the status
// rows per region and tier.
func TestTiersInNetworkAndRollout(t *testing.T) {
	src := &fakeSource{}
	h, clk := newTestHub(t, src)
	rec := node("rec-us", "us-east-1", 4, true, clk.now())
	rec.Role = "rec"
	src.nodes = []*edgelabv1.Node{rec, node("pop-us", "us-east-1", 5, true, clk.now()), node("pop-eu", "eu-west-1", 5, false, clk.now())}
	changed := clk.now()
	src.status = &edgelabv1.GetStatusResponse{Revision: 5, Distributions: []*edgelabv1.DistributionStatus{{
		DistributionId: "demo", Revision: 5, State: edgelabv1.DeploymentState_DEPLOYMENT_STATE_IN_PROGRESS, Changed: timestamppb.New(changed),
		Nodes: []*edgelabv1.NodeChangeStatus{
			{NodeId: "rec-us", Region: "us-east-1", Role: "rec"},
			{NodeId: "pop-us", Region: "us-east-1", Role: "pop", Acked: timestamppb.New(changed.Add(300 * time.Millisecond))},
		},
		Regions: []*edgelabv1.RegionStatus{
			{Region: "us-east-1", Role: "rec", Nodes: 1, Acked: 0},
			{Region: "us-east-1", Role: "pop", Nodes: 1, Acked: 1, FirstAck: durationpb.New(300 * time.Millisecond), LastAck: durationpb.New(300 * time.Millisecond),
				State: edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED},
		}}}}
	h.refresh(context.Background())
	s, _ := h.Latest()
	if len(s.Network.Tiers) != 2 || s.Network.Tiers[0].Tier != TierPoP || s.Network.Tiers[0].Nodes != 2 ||
		s.Network.Tiers[0].ByState[NodeDown] != 1 || s.Network.Tiers[1].Tier != TierREC || s.Network.Tiers[1].ByState[NodeBehind] != 1 {
		t.Errorf("tiers %+v", s.Network.Tiers)
	}
	for _, r := range s.Network.Regions {
		if r.Name == "us-east-1" && (len(r.Nodes) != 2 || r.Nodes[0].Tier != TierPoP || r.Nodes[1].Tier != TierREC) {
			t.Errorf("us-east-1 nodes %+v, want the PoP then the REC", r.Nodes)
		}
	}
	if len(s.Rollouts) != 1 {
		t.Fatalf("%d rollouts", len(s.Rollouts))
	}
	ro := s.Rollouts[0]
	if len(ro.Tiers) != 2 || ro.Tiers[0].Tier != TierPoP || ro.Tiers[0].State != "Deployed" || ro.Tiers[0].LastAckMs != 300 ||
		ro.Tiers[1].Tier != TierREC || ro.Tiers[1].Acked != 0 || !math.IsNaN(float64(ro.Tiers[1].FirstAckMs)) {
		t.Errorf("rollout tier rows %+v", ro.Tiers)
	}
	if ro.Nodes[0].Tier != TierPoP || ro.Nodes[1].Tier != TierREC {
		t.Errorf("rollout nodes %+v, want the region's PoP before its REC", ro.Nodes)
	}
}
