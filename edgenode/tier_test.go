package edgenode

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/accesslog"
	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/internal/poll"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/topology"
)

// tierTopology has three regions: a (PoPs A1, A2; REC ra), b (PoP B1,
// missing to ra), c (PoPs C1, C2; REC rc), and optionally d (PoPs D1, D2;
// REC rd) for the shield test.
const tierTopology = `home: a
regions:
  - {name: a, pops: [A1, A2]}
  - {name: b, pops: [B1], rec: ra}
  - {name: c, pops: [C1, C2]}
  - {name: d, pops: [D1, D2]}
latency: {a: {b: 10, c: 20, d: 30}, b: {c: 15, d: 25}, c: {d: 12}}
recs:
  - {name: ra, region: a}
  - {name: rc, region: c}
  - {name: rd, region: d}
`

// tierNet is a two-tier test network: RECs and PoPs sharing one topology.
type tierNet struct {
	top  *topology.Topology
	recs map[string]*Node
	pops map[string]*Node
	urls map[string]string
}

// newTierNet starts one REC per topology REC (with runner recRunner) and
// the named PoPs (with popRunner), all applying snap.
func newTierNet(t testing.TB, snap *edgelabv1.Snapshot, recRunner, popRunner sandbox.Runner, pops ...string) *tierNet {
	t.Helper()
	top, err := topology.Parse([]byte(tierTopology))
	if err != nil {
		t.Fatal(err)
	}
	tn := &tierNet{top: top, recs: map[string]*Node{}, pops: map[string]*Node{}, urls: map[string]string{}}
	for _, r := range top.RECs() {
		n := startNode(t, recRunner, func(c *Config) {
			c.NodeID, c.Region, c.PoP = "rec-"+r.Name, r.Region, r.Name
			c.Tier = TierConfig{Role: RoleREC, Topology: top}
		})
		tn.recs[r.Name], tn.urls[r.Name] = n, n.URL()
	}
	for _, n := range tn.recs {
		n.SetRECs(tn.urls)
	}
	for _, p := range pops {
		region, _ := top.RegionOfPoP(p)
		tn.pops[p] = startNode(t, popRunner, func(c *Config) {
			c.NodeID, c.Region, c.PoP = "pop-"+p, region, p
			c.Tier = TierConfig{Topology: top, RECs: tn.urls}
		})
	}
	for _, n := range tn.all() {
		if err := n.Apply(context.Background(), snap, nil); err != nil {
			t.Fatal(err)
		}
	}
	return tn
}

func (tn *tierNet) all() []*Node {
	var out []*Node
	for _, n := range tn.recs {
		out = append(out, n)
	}
	for _, n := range tn.pops {
		out = append(out, n)
	}
	return out
}

// TestTierTriggerPlacement: viewer triggers at the PoP, origin triggers at
// the REC that goes to the origin, once per origin fetch; the second PoP
// of the area hits at the REC; the headers name the PoP, the REC and its
// result; edge.InfoFrom says where each function ran.
func TestTierTriggerPlacement(t *testing.T) {
	o := newCountingOrigin(t, okHandler("max-age=60"))
	popRunner, recRunner := newFakeRunner(), newFakeRunner()
	var mu sync.Mutex
	infos := map[edge.EventType]edge.Info{}
	record := func(inv sandbox.Invocation) sandbox.Result {
		mu.Lock()
		infos[inv.Event] = inv.Info
		mu.Unlock()
		return cont(inv)
	}
	for _, f := range []string{"vr", "oreq", "ores", "vres"} {
		popRunner.handlers[f], recRunner.handlers[f] = record, record
	}
	snap := snapshot(1, o.URL, "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{
		assoc(evVR, "vr"), assoc(evOReq, "oreq"), assoc(evORes, "ores"), assoc(evVRes, "vres")}})
	tn := newTierNet(t, snap, recRunner, popRunner, "A1", "A2", "B1")

	r := do(t, tn.pops["A1"], "GET", "/obj", nil, "")
	wantHeaders(t, "first request at A1", r, map[string]string{"X-Cache": "Miss from edgelab", "X-Edgelab-Pop": "A1",
		"X-Edgelab-Rec": "ra", xRecCache: "Miss from edgelab",
		"X-Edgelab-Functions": "viewer-request=vr:1, origin-request=oreq:1, origin-response=ores:1, viewer-response=vres:1"})
	if got := popRunner.takeCalls(); !slices.Equal(got, []string{"viewer-request", "viewer-response"}) {
		t.Errorf("PoP ran %v, want the viewer triggers", got)
	}
	if got := recRunner.takeCalls(); !slices.Equal(got, []string{"origin-request", "origin-response"}) {
		t.Errorf("REC ran %v, want the origin triggers", got)
	}
	mu.Lock()
	if i := infos[edge.OriginRequest]; i.Tier != RoleREC || i.REC != "ra" || i.Region != "a" || i.PoP != "A1" {
		t.Errorf("origin-request Info = tier %q rec %q region %q pop %q, want rec ra a A1", i.Tier, i.REC, i.Region, i.PoP)
	}
	if i := infos[edge.ViewerRequest]; i.Tier != RolePoP || i.REC != "" || i.PoP != "A1" {
		t.Errorf("viewer-request Info = tier %q rec %q pop %q, want pop A1", i.Tier, i.REC, i.PoP)
	}
	mu.Unlock()

	// B1 (region b) misses to ra too: a hit at the REC, no origin trigger.
	r = do(t, tn.pops["B1"], "GET", "/obj", nil, "")
	wantHeaders(t, "B1 after A1", r, map[string]string{"X-Cache": "Miss from edgelab", "X-Edgelab-Pop": "B1",
		"X-Edgelab-Rec": "ra", xRecCache: "Hit from edgelab", "X-Edgelab-Functions": "viewer-request=vr:1, viewer-response=vres:1"})
	if got := recRunner.takeCalls(); len(got) != 0 {
		t.Errorf("REC ran %v on a REC hit", got)
	}
	// A1 again: a PoP hit, the REC not asked.
	r = do(t, tn.pops["A1"], "GET", "/obj", nil, "")
	wantHeaders(t, "A1 again", r, map[string]string{"X-Cache": "Hit from edgelab", "X-Edgelab-Rec": ""})
	if got := o.hits.Load(); got != 1 {
		t.Errorf("origin requests = %d, want 1", got)
	}
	if r.body != "body:/obj" {
		t.Errorf("body = %q", r.body)
	}
}

func wantHeaders(t *testing.T, what string, r result, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
}

// TestTierShieldCollapses: seven PoPs in four regions miss the same
// object at once. Under an origin shield the origin sees exactly one
// request; without one, one per REC.
func TestTierShieldCollapses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		shield string
		want   int64
	}{
		{"shield", "a", 1},
		{"no shield", "", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			o := newCountingOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				<-release
				okHandler("max-age=60")(w, r)
			})
			snap := snapshot(1, o.URL, "", &edgelabv1.Behavior{})
			snap.Distributions[0].OriginShield = tc.shield
			pops := []string{"A1", "A2", "B1", "C1", "C2", "D1", "D2"}
			tn := newTierNet(t, snap, newFakeRunner(), newFakeRunner(), pops...)
			var misses atomic.Int64
			for _, p := range pops {
				tn.pops[p].testHookMiss = func() { misses.Add(1) }
			}
			var wg sync.WaitGroup
			results := make([]result, len(pops))
			for i, p := range pops {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = do(t, tn.pops[p], "GET", "/same", nil, "")
				}()
			}
			poll.True(t, 10*time.Second, "all seven PoPs missing", func() bool { return misses.Load() == int64(len(pops)) })
			poll.True(t, 10*time.Second, "the origin asked", func() bool { return o.hits.Load() >= 1 })
			close(release)
			wg.Wait()
			for i, r := range results {
				if r.status != 200 || r.body != "body:/same" {
					t.Errorf("%s: %d %q", pops[i], r.status, r.body)
				}
			}
			if got := o.hits.Load(); got != tc.want {
				t.Errorf("origin requests = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestTierFailover: a PoP whose REC is down goes to the next REC nearest
// its region; with every REC down it goes to the origin and runs the
// origin triggers itself.
func TestTierFailover(t *testing.T) {
	o := newCountingOrigin(t, okHandler("max-age=60"))
	popRunner := newFakeRunner()
	snap := snapshot(1, o.URL, "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{assoc(evOReq, "oreq")}})
	tn := newTierNet(t, snap, newFakeRunner(), popRunner, "B1")
	if err := tn.recs["ra"].Close(); err != nil {
		t.Fatal(err)
	}
	// b's REC is ra; next nearest from b: rc (15 ms), then rd (25 ms).
	r := do(t, tn.pops["B1"], "GET", "/x", nil, "")
	wantHeaders(t, "ra down", r, map[string]string{"X-Cache": "Miss from edgelab", "X-Edgelab-Rec": "rc"})
	if err := tn.recs["rc"].Close(); err != nil {
		t.Fatal(err)
	}
	if err := tn.recs["rd"].Close(); err != nil {
		t.Fatal(err)
	}
	r = do(t, tn.pops["B1"], "GET", "/y", nil, "")
	wantHeaders(t, "every REC down", r, map[string]string{"X-Cache": "Miss from edgelab", "X-Edgelab-Rec": "",
		"X-Edgelab-Functions": "origin-request=oreq:1"})
	if r.status != 200 || r.body != "body:/y" {
		t.Errorf("every REC down: %d %q", r.status, r.body)
	}
	if got := popRunner.takeCalls(); !slices.Equal(got, []string{"origin-request"}) {
		t.Errorf("PoP ran %v with every REC down, want origin-request", got)
	}
}

// TestTierRECErrorNotStored: a function error at the REC reaches the
// viewer as CloudFront shows it and is stored at neither tier.
func TestTierRECErrorNotStored(t *testing.T) {
	o := newCountingOrigin(t, okHandler("max-age=60"))
	recRunner := newFakeRunner()
	recRunner.handlers["oreq"] = func(sandbox.Invocation) sandbox.Result {
		return sandbox.Result{Outcome: sandbox.OutcomeExecutionError, Err: fmt.Errorf("boom")}
	}
	snap := snapshot(1, o.URL, "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{assoc(evOReq, "oreq")}})
	tn := newTierNet(t, snap, recRunner, newFakeRunner(), "A1")
	for i := range 2 {
		r := do(t, tn.pops["A1"], "GET", "/e", nil, "")
		if r.status != 503 || xcache(r) != "LambdaExecutionError" || r.header.Get(xRecCache) != "LambdaExecutionError from edgelab" {
			t.Fatalf("request %d: %d X-Cache %q Rec-Cache %q", i, r.status, r.header.Get("X-Cache"), r.header.Get(xRecCache))
		}
	}
	if got := recRunner.takeCalls(); len(got) != 2 {
		t.Errorf("REC ran origin-request %d times, want 2 (an error is not stored)", len(got))
	}
	if o.hits.Load() != 0 {
		t.Errorf("origin asked %d times", o.hits.Load())
	}
}

// TestTierRECRefusesViewers: a REC answers tier requests only (a viewer
// there would skip the viewer triggers); a forged hop that passed too
// many tiers is refused; the health answer stays open.
func TestTierRECRefusesViewers(t *testing.T) {
	o := newCountingOrigin(t, okHandler("max-age=60"))
	tn := newTierNet(t, snapshot(1, o.URL, "", &edgelabv1.Behavior{}), newFakeRunner(), newFakeRunner())
	rec := tn.recs["ra"]
	for _, tc := range []struct {
		name   string
		hdr    map[string]string
		status int
	}{
		{"no hop header", nil, http.StatusForbidden},
		{"malformed hop header", map[string]string{hopHeader: "hops=x"}, http.StatusForbidden},
		{"too many hops", map[string]string{hopHeader: hop{pop: "A1", behavior: "default", hops: maxHops}.encode()}, http.StatusLoopDetected},
	} {
		if r := do(t, rec, "GET", "/x", tc.hdr, ""); r.status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, r.status, tc.status)
		}
	}
	if r := do(t, rec, "GET", HealthPath, nil, ""); r.status != 200 {
		t.Errorf("health: %d", r.status)
	}
	if o.hits.Load() != 0 {
		t.Errorf("origin asked %d times", o.hits.Load())
	}
}

// TestTierInvalidationClearsBothTiers: an invalidation applied on both
// tiers (it replicates to RECs like any change) sends the next request to
// the origin.
func TestTierInvalidationClearsBothTiers(t *testing.T) {
	o := newCountingOrigin(t, okHandler("max-age=600"))
	tn := newTierNet(t, snapshot(1, o.URL, "", &edgelabv1.Behavior{}), newFakeRunner(), newFakeRunner(), "A1")
	do(t, tn.pops["A1"], "GET", "/img/a", nil, "")
	inv := &edgelabv1.Invalidation{Id: "i1", DistributionId: "d", Paths: []string{"/img/*"}}
	for _, n := range tn.all() {
		if err := n.Apply(context.Background(), nil, []*edgelabv1.Invalidation{inv}); err != nil {
			t.Fatal(err)
		}
	}
	r := do(t, tn.pops["A1"], "GET", "/img/a", nil, "")
	wantHeaders(t, "after invalidation", r, map[string]string{"X-Cache": "Miss from edgelab", xRecCache: "Miss from edgelab"})
	if got := o.hits.Load(); got != 2 {
		t.Errorf("origin requests = %d, want 2", got)
	}
}

// A PoP that applied an invalidation its REC has not applied yet must not
// refill from the REC's older copy: the REC goes to the origin for it, and
// answers from its cache again once it has applied the revision.
func TestTierRECBehindAnInvalidationGoesToTheOrigin(t *testing.T) {
	o := newCountingOrigin(t, okHandler("max-age=600"))
	tn := newTierNet(t, snapshot(1, o.URL, "", &edgelabv1.Behavior{}), newFakeRunner(), newFakeRunner(), "A1", "A2")
	do(t, tn.pops["A1"], "GET", "/img/a", nil, "")
	inv := &edgelabv1.Invalidation{Id: "i1", DistributionId: "d", Paths: []string{"/img/*"}, Revision: 2}
	if err := tn.pops["A1"].Apply(context.Background(), nil, []*edgelabv1.Invalidation{inv}); err != nil {
		t.Fatal(err)
	}
	r := do(t, tn.pops["A1"], "GET", "/img/a", nil, "")
	wantHeaders(t, "REC behind the invalidation", r, map[string]string{"X-Cache": "Miss from edgelab", xRecCache: "Miss from edgelab"})
	if got := o.hits.Load(); got != 2 {
		t.Fatalf("origin requests = %d, want 2 (the REC's copy predates the invalidation)", got)
	}
	r = do(t, tn.pops["A1"], "GET", "/img/a", nil, "")
	wantHeaders(t, "refilled", r, map[string]string{"X-Cache": "Hit from edgelab"})
	// A2 applied nothing: the REC's cache still answers it.
	r = do(t, tn.pops["A2"], "GET", "/img/a", nil, "")
	wantHeaders(t, "PoP without the invalidation", r, map[string]string{xRecCache: "Hit from edgelab"})
	// Once the REC is at the invalidation's revision it answers A1 from its cache.
	if err := tn.recs["ra"].Apply(context.Background(), snapshot(2, o.URL, "", &edgelabv1.Behavior{}), []*edgelabv1.Invalidation{inv}); err != nil {
		t.Fatal(err)
	}
	do(t, tn.recs["ra"], "GET", "/img/a", map[string]string{hopHeader: hop{pop: "A2", hops: 0}.encode()}, "") // refill the REC
	hits := o.hits.Load()
	r = do(t, tn.recs["ra"], "GET", "/img/a", map[string]string{hopHeader: hop{pop: "A1", inval: 2}.encode()}, "")
	if ans, _ := parseHopAnswer(r.header.Get(hopHeader)); ans.result != "Hit" || o.hits.Load() != hits {
		t.Errorf("REC at the revision: result %q, origin requests %d -> %d; want a Hit", ans.result, hits, o.hits.Load())
	}
}

// A miss in flight when an invalidation is applied does not store what it
// fetched (it may predate the invalidation); the next request misses again.
func TestFetchAcrossAnInvalidationIsNotStored(t *testing.T) {
	o := newCountingOrigin(t, okHandler("max-age=600"))
	n := startNode(t, newFakeRunner(), nil)
	if err := n.Apply(context.Background(), snapshot(1, o.URL, "", &edgelabv1.Behavior{}), nil); err != nil {
		t.Fatal(err)
	}
	inv := &edgelabv1.Invalidation{Id: "i1", DistributionId: "d", Paths: []string{"/*"}, Revision: 2}
	n.testHookMiss = func() {
		n.testHookMiss = nil
		if err := n.Apply(context.Background(), nil, []*edgelabv1.Invalidation{inv}); err != nil {
			t.Error(err)
		}
	}
	if r := do(t, n, "GET", "/obj", nil, ""); r.status != 200 || xcache(r) != "Miss" {
		t.Fatalf("first request: %d %q", r.status, xcache(r))
	}
	if r := do(t, n, "GET", "/obj", nil, ""); xcache(r) != "Miss" || o.hits.Load() != 2 {
		t.Fatalf("after an invalidation during the fetch: %q with %d origin requests, want a second Miss", xcache(r), o.hits.Load())
	}
	if r := do(t, n, "GET", "/obj", nil, ""); xcache(r) != "Hit" {
		t.Fatalf("third request: %q, want Hit", xcache(r))
	}
}

func TestHopRoundTrip(t *testing.T) {
	h := hop{pop: "NRT", behavior: "/api/*", client: "192.0.2.1", hops: 2, inval: 41}
	if got, ok := parseHop(h.encode()); !ok || got != h {
		t.Errorf("parseHop(encode) = %+v %v, want %+v", got, ok, h)
	}
	a := hopAnswer{rec: "ap-northeast-1", result: "Hit", noStore: true}
	if got, ok := parseHopAnswer(a.encode()); !ok || got != a {
		t.Errorf("parseHopAnswer(encode) = %+v %v, want %+v", got, ok, a)
	}
	for _, bad := range []string{"", "hops=-1", "hops=x", "%zz", "hops=0&inval=-2", "hops=0&inval=x"} {
		if _, ok := parseHop(bad); ok {
			t.Errorf("parseHop(%q) accepted", bad)
		}
	}
	if _, ok := parseHopAnswer("result=Hit"); ok {
		t.Error("answer without rec accepted")
	}
}

// syncBuffer is a bytes.Buffer safe for the node's writes and the test's read.
type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range strings.Split(string(s.b), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// TestAccessLogOneLinePerViewerRequest: the PoP logs each viewer request
// in CloudFront's field order; the REC logs none of its tier requests, and
// neither logs health checks.
func TestAccessLogOneLinePerViewerRequest(t *testing.T) {
	o := newCountingOrigin(t, okHandler("max-age=60"))
	top, err := topology.Parse([]byte(tierTopology))
	if err != nil {
		t.Fatal(err)
	}
	var popLog, recLog syncBuffer
	rec := startNode(t, newFakeRunner(), func(c *Config) {
		c.Region, c.PoP, c.Tier = "a", "ra", TierConfig{Role: RoleREC, Topology: top}
		c.AccessLog = accesslog.NewWriter(&recLog, false)
	})
	pop := startNode(t, newFakeRunner(), func(c *Config) {
		c.Region, c.PoP, c.Tier = "a", "A1", TierConfig{Topology: top, RECs: map[string]string{"ra": rec.URL()}}
		c.AccessLog = accesslog.NewWriter(&popLog, false)
	})
	snap := snapshot(1, o.URL, "", &edgelabv1.Behavior{})
	for _, n := range []*Node{rec, pop} {
		if err := n.Apply(context.Background(), snap, nil); err != nil {
			t.Fatal(err)
		}
	}
	do(t, pop, "GET", "/logged?q=1", map[string]string{"User-Agent": "test agent"}, "")
	do(t, pop, "GET", HealthPath, nil, "") // a health check, not a viewer request
	do(t, pop, "GET", "/logged?q=1", nil, "")
	lines := popLog.lines()
	if len(lines) != 2 {
		t.Fatalf("PoP logged %d lines, want 2:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for i, want := range []string{"Miss", "Hit"} {
		f := strings.Split(lines[i], "\t")
		if len(f) != len(accesslog.Fields) {
			t.Fatalf("line %d has %d fields, want %d", i, len(f), len(accesslog.Fields))
		}
		// x-edge-location, cs-method, cs-uri-stem, sc-status, cs-uri-query, x-edge-result-type.
		if f[2] != "A1" || f[5] != "GET" || f[7] != "/logged" || f[8] != "200" || f[11] != "q=1" || f[13] != want || f[3] != "12" {
			t.Errorf("line %d = %q", i, lines[i])
		}
	}
	if f := strings.Split(lines[0], "\t"); f[10] != "test%20agent" {
		t.Errorf("user agent field = %q", f[10])
	}
	if n := len(recLog.lines()); n != 0 {
		t.Errorf("REC logged %d tier requests", n)
	}
}

// TestTierFaults: tier-partition on a REC makes its PoPs take it for down
// and ask the next REC; tier-latency delays what it answers; neither
// touches the viewer path of a PoP, and healing restores the REC.
func TestTierFaults(t *testing.T) {
	o := newCountingOrigin(t, okHandler("no-store"))
	snap := snapshot(1, o.URL, "", &edgelabv1.Behavior{})
	tn := newTierNet(t, snap, newFakeRunner(), newFakeRunner(), "B1", "C1")
	const slow = 150 * time.Millisecond
	tn.recs["rc"].ApplyFaults([]*edgelabv1.Fault{{Id: "slow", Kind: "tier-latency", Target: "node:rec-rc", Latency: durationpb.New(slow)}})
	start := time.Now()
	r := do(t, tn.pops["C1"], "GET", "/slow", nil, "")
	if took := time.Since(start); took < slow {
		t.Errorf("a miss through REC rc under tier-latency %s took %s", slow, took)
	}
	wantHeaders(t, "rc slow", r, map[string]string{"X-Cache": "Miss from edgelab", "X-Edgelab-Rec": "rc"})
	tn.recs["ra"].ApplyFaults([]*edgelabv1.Fault{{Id: "cut", Kind: "tier-partition", Target: "node:rec-ra"}})
	// b's REC is ra; next nearest from b: rc.
	r = do(t, tn.pops["B1"], "GET", "/cut", nil, "")
	wantHeaders(t, "ra partitioned", r, map[string]string{"X-Cache": "Miss from edgelab", "X-Edgelab-Rec": "rc"})
	if r.status != 200 || r.body != "body:/cut" {
		t.Errorf("ra partitioned: %d %q", r.status, r.body)
	}
	// A fault past its expiry is ignored: rc, replacing its latency with an
	// expired partition, answers C1 at once.
	tn.recs["rc"].ApplyFaults([]*edgelabv1.Fault{{Id: "cut", Kind: "tier-partition", Target: "node:rec-rc", Expires: timestamppb.New(time.Now().Add(-time.Second))}})
	r = do(t, tn.pops["C1"], "GET", "/healed", nil, "")
	wantHeaders(t, "rc fault expired", r, map[string]string{"X-Edgelab-Rec": "rc"})
}

// TestTierShieldPartitioned: with the shield REC (ra) tier-partitioned, the
// RECs below it go to the origin themselves: two RECs missing one object
// cost two origin requests instead of the shield's one, and viewers still
// get it.
func TestTierShieldPartitioned(t *testing.T) {
	for _, tc := range []struct {
		name string
		cut  bool
		want int64
	}{
		{"shield reachable", false, 1},
		{"shield partitioned", true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newCountingOrigin(t, okHandler("max-age=60"))
			snap := snapshot(1, o.URL, "", &edgelabv1.Behavior{})
			snap.Distributions[0].OriginShield = "a"
			tn := newTierNet(t, snap, newFakeRunner(), newFakeRunner(), "C1", "D1")
			if tc.cut {
				tn.recs["ra"].ApplyFaults([]*edgelabv1.Fault{{Id: "cut", Kind: "tier-partition", Target: "node:rec-ra"}})
			}
			for _, p := range []string{"C1", "D1"} {
				r := do(t, tn.pops[p], "GET", "/s", nil, "")
				if r.status != 200 || r.body != "body:/s" {
					t.Errorf("%s: %d %q", p, r.status, r.body)
				}
			}
			if got := o.hits.Load(); got != tc.want {
				t.Errorf("origin requests = %d, want %d", got, tc.want)
			}
		})
	}
}
