package edgenode

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/gateway"
	"github.com/edgelab/edgelab/latency"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/topology"
)

// latencyTopology: three regions, a REC in e and one in w (whose misses
// go through e's REC, a shield), s's PoPs missing to e's REC. Every
// one-way latency is at least 10ms, so every hop's round trip is >= 20ms.
const latencyTopology = `home: e
regions:
  - {name: e, pops: [E1]}
  - {name: w, pops: [W1]}
  - {name: s, pops: [S1], rec: re}
latency: {e: {e: 10, w: 40, s: 25}, w: {w: 10, s: 45}, s: {s: 10}}
recs:
  - {name: re, region: e}
  - {name: rw, region: w, shield: e}
`

// latencyNet is a gateway in front of one PoP per region, the RECs and an
// origin in region originRegion, every stage sharing one latency model
// (nil: off).
type latencyNet struct {
	gw     *gateway.Gateway
	client *http.Client
}

func newLatencyNet(t *testing.T, top *topology.Topology, model *latency.Model, originURL, originRegion string) *latencyNet {
	t.Helper()
	snap := snapshot(1, originURL, "", &edgelabv1.Behavior{})
	snap.Distributions[0].Origins[0].Region = originRegion
	urls := map[string]string{}
	var nodes []*Node
	for _, r := range top.RECs() {
		n := startNode(t, newFakeRunner(), func(c *Config) {
			c.NodeID, c.Region, c.PoP = "rec-"+r.Name, r.Region, r.Name
			c.Tier, c.Latency = TierConfig{Role: RoleREC, Topology: top}, model
		})
		urls[r.Name] = n.URL()
		nodes = append(nodes, n)
	}
	var edges []gateway.Edge
	for _, region := range top.Regions() {
		pop := top.PoPs(region)[0]
		n := startNode(t, newFakeRunner(), func(c *Config) {
			c.NodeID, c.Region, c.PoP = "pop-"+pop, region, pop
			c.Tier, c.Latency = TierConfig{Topology: top, RECs: urls}, model
		})
		edges = append(edges, gateway.Edge{ID: n.cfg.NodeID, Region: region, PoP: pop, URL: n.URL()})
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		n.SetRECs(urls)
		if err := n.Apply(context.Background(), snap, nil); err != nil {
			t.Fatal(err)
		}
	}
	gw, err := gateway.New(gateway.Config{ListenAddr: "127.0.0.1:0", Topology: top, Edges: edges, HealthInterval: -1,
		AddLatency: model.On(), Latency: model, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := gw.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return &latencyNet{gw: gw, client: &http.Client{Transport: &http.Transport{}}}
}

// miss sends one request for a path nobody holds from a viewer in region
// and returns how long the whole answer took and the REC that answered.
func (ln *latencyNet) miss(t *testing.T, region, path string) (time.Duration, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+ln.gw.Addr().String()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(gateway.HeaderViewerRegion, region)
	start := time.Now()
	resp, err := ln.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s from %s: %v", path, region, err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("X-Cache") != "Miss from edgelab" {
		t.Fatalf("GET %s from %s: %d %q %v", path, region, resp.StatusCode, resp.Header.Get("X-Cache"), err)
	}
	return took, resp.Header.Get("X-Edgelab-Rec")
}

// fastest is the minimum of runs misses from region (noise only adds).
func (ln *latencyNet) fastest(t *testing.T, region, tag string, runs int) (time.Duration, string) {
	best, rec := time.Duration(1<<62), ""
	for i := range runs {
		took, r := ln.miss(t, region, fmt.Sprintf("/%s/%s/%d", tag, region, i))
		best, rec = min(best, took), r
	}
	return best, rec
}

// fastestWithin is fastest for misses that wait the model: at least
// minRuns and at most maxRuns, stopping once the fastest is within limit.
// Every run must take at least floor (the model never waits less).
func (ln *latencyNet) fastestWithin(t *testing.T, region string, floor, limit time.Duration, minRuns, maxRuns int) (time.Duration, string, int) {
	t.Helper()
	best, rec, n := time.Duration(1<<62), "", 0
	for n < maxRuns && (n < minRuns || best > limit) {
		took, r := ln.miss(t, region, fmt.Sprintf("/on/%s/%d", region, n))
		if took < floor {
			t.Errorf("%s: a miss took %v, less than the model's %v", region, took, floor)
		}
		best, rec, n = min(best, took), r, n+1
	}
	return best, rec, n
}

// TestLatencyModelMissPerRegion: with the latency model on, a miss from
// each region takes what the model says, within 10% plus the request's
// own cost measured with the model off in the same test: viewer -> PoP,
// PoP -> REC, REC -> shield (from w), REC/shield -> the origin in w.
func TestLatencyModelMissPerRegion(t *testing.T) {
	if testing.Short() {
		t.Skip("times requests")
	}
	top, err := topology.Parse([]byte(latencyTopology))
	if err != nil {
		t.Fatal(err)
	}
	model, err := latency.New(latency.Config{Topology: top, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	o := newCountingOrigin(t, okHandler("max-age=60"))
	off, on := newLatencyNet(t, top, nil, o.URL, "w"), newLatencyNet(t, top, model, o.URL, "w")
	rt := model.RoundTrip
	want := map[string]struct {
		rec      string
		expected time.Duration
	}{
		"e": {"re", rt("e", "e") + rt("e", "e") + rt("e", "w")},                // 20 + 20 + 80
		"w": {"rw", rt("w", "w") + rt("w", "w") + rt("w", "e") + rt("e", "w")}, // 20 + 20 + 80 + 80 (shield)
		"s": {"re", rt("s", "s") + rt("s", "e") + rt("e", "w")},                // 20 + 50 + 80
	}
	for _, region := range top.Regions() {
		checkMiss(t, off, on, region, want[region].rec, want[region].expected)
	}
}

// checkMiss compares the fastest miss from region with the model on to
// expected: within 10% plus the same miss without the model plus 5ms,
// answered by REC rec.
func checkMiss(t *testing.T, off, on *latencyNet, region, rec string, expected time.Duration) {
	t.Helper()
	base, _ := off.fastest(t, region, "off", 5)
	limit := expected + expected/10 + base + 5*time.Millisecond
	// The fastest of 3 to 10 runs: a loaded machine only adds time.
	got, gotREC, runs := on.fastestWithin(t, region, expected, limit, 3, 10)
	if gotREC != rec {
		t.Errorf("%s: answered by REC %q, want %q", region, gotREC, rec)
	}
	t.Logf("%s: miss %v with the model (expected %v, fastest of %d), %v without", region, got, expected, runs, base)
	if got > limit {
		t.Errorf("%s: miss took %v, want %v (model) + 10%% + %v (the request without the model) + 5ms = at most %v", region, got, expected, base, limit)
	}
}

// TestLatencyModelMissPerRegionDefaultTopology: the same check on the
// built-in topology, every region, scaled by 0.5 with the origin in
// ap-southeast-2 so that every miss waits at least 50ms. The expected
// time follows the topology: viewer -> its region's PoP, PoP -> its first
// REC, that REC's shield if any, the last tier -> the origin.
func TestLatencyModelMissPerRegionDefaultTopology(t *testing.T) {
	if testing.Short() {
		t.Skip("times requests")
	}
	top := topology.Default()
	model, err := latency.New(latency.Config{Topology: top, Scale: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	const originRegion = "ap-southeast-2"
	o := newCountingOrigin(t, okHandler("max-age=60"))
	off, on := newLatencyNet(t, top, nil, o.URL, originRegion), newLatencyNet(t, top, model, o.URL, originRegion)
	rt := model.RoundTrip
	for _, region := range top.Regions() {
		rec := top.RECsByPreference(region)[0]
		r, _ := top.REC(rec)
		expected, last := rt(region, region)+rt(region, r.Region), r.Region
		if s, ok := top.ShieldOf(rec); ok {
			sr, _ := top.REC(s)
			expected, last = expected+rt(last, sr.Region), sr.Region
		}
		expected += rt(last, originRegion)
		if expected < 50*time.Millisecond {
			t.Fatalf("%s: expected %v, below the 50ms the check needs to stand above noise", region, expected)
		}
		checkMiss(t, off, on, region, rec, expected)
	}
}

// TestLatencyModelFetchTable: every invocation gets the fetch round trips
// from the node's region: to each mapped host's region, else home.
func TestLatencyModelFetchTable(t *testing.T) {
	top, err := topology.Parse([]byte(latencyTopology))
	if err != nil {
		t.Fatal(err)
	}
	model, err := latency.New(latency.Config{Topology: top, Scale: 2, FetchRegions: map[string]string{"auth.test": "s"}})
	if err != nil {
		t.Fatal(err)
	}
	o := newCountingOrigin(t, okHandler("max-age=60"))
	r := newFakeRunner()
	got := make(chan sandbox.FetchLatency, 1)
	r.handlers["vr"] = func(inv sandbox.Invocation) sandbox.Result {
		got <- inv.FetchLatency
		return cont(inv)
	}
	n := startNode(t, r, func(c *Config) { c.Region, c.PoP, c.Latency = "w", "W1", model })
	if err := n.Apply(context.Background(), snapshot(1, o.URL, "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{assoc(evVR, "vr")}}), nil); err != nil {
		t.Fatal(err)
	}
	do(t, n, "GET", "/x", nil, "")
	fl := <-got
	if fl.Default != 2*2*40*time.Millisecond || fl.ByHost["auth.test"] != 2*2*45*time.Millisecond || len(fl.ByHost) != 1 {
		t.Errorf("FetchLatency from w = %+v, want default 160ms (home e), auth.test 180ms (s)", fl)
	}
}

// TestLatencyModelOriginRegion: a fetch goes to its origin's region, or,
// when origin-request moved it to another host, to that host's fetch
// region (home when unmapped).
func TestLatencyModelOriginRegion(t *testing.T) {
	top, err := topology.Parse([]byte(latencyTopology))
	if err != nil {
		t.Fatal(err)
	}
	model, err := latency.New(latency.Config{Topology: top, Scale: 1, FetchRegions: map[string]string{"other.test": "s"}})
	if err != nil {
		t.Fatal(err)
	}
	oc, err := newOriginConf(&edgelabv1.Origin{Id: "o", Url: "http://web.test:8080", Region: "w"})
	if err != nil {
		t.Fatal(err)
	}
	n := &Node{cfg: Config{Latency: model}}
	moved := func(u string) *edge.Origin {
		o, err := edge.NewCustomOrigin(u)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	for name, tc := range map[string]struct {
		o    *edge.Origin
		want string
	}{
		"as configured":     {oc.origin, "w"},
		"same host, copied": {moved("http://web.test:8080/prefix"), "w"},
		"moved, mapped":     {moved("http://other.test"), "s"},
		"moved, unmapped":   {moved("http://elsewhere.test"), "e"},
	} {
		if got := n.originRegion(oc, tc.o); got != tc.want {
			t.Errorf("%s: region %q, want %q", name, got, tc.want)
		}
	}
}
