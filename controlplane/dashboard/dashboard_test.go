package dashboard

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// fakeSource is a Source whose answers the test sets.
type fakeSource struct {
	mu       sync.Mutex
	nodes    []*edgelabv1.Node
	status   *edgelabv1.GetStatusResponse
	faults   []*edgelabv1.Fault
	reg      *prometheus.Registry
	injected []*edgelabv1.Fault
	failLogs error
}

func (f *fakeSource) ReplicaID() string { return "cp-test" }
func (f *fakeSource) Nodes(context.Context) ([]*edgelabv1.Node, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nodes, nil
}
func (f *fakeSource) Status(context.Context) (*edgelabv1.GetStatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status == nil {
		return &edgelabv1.GetStatusResponse{}, nil
	}
	return f.status, nil
}
func (f *fakeSource) Functions(context.Context) ([]*edgelabv1.Function, error) {
	return []*edgelabv1.Function{{Name: "auth", LatestVersion: 3}}, nil
}
func (f *fakeSource) Distributions(context.Context) ([]*edgelabv1.Distribution, error) {
	return []*edgelabv1.Distribution{{Id: "demo", Origins: []*edgelabv1.Origin{{Id: "web"}},
		Behaviors: []*edgelabv1.Behavior{{Path: "default", Functions: []*edgelabv1.Association{{Function: "auth", Version: 3}}}}}}, nil
}
func (f *fakeSource) Faults(context.Context) ([]*edgelabv1.Fault, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.faults, nil
}
func (f *fakeSource) Logs(context.Context, time.Time) ([]*edgelabv1.LogLine, error) {
	return nil, f.failLogs
}
func (f *fakeSource) EdgeMetrics(context.Context) ([]*dto.MetricFamily, error) {
	if f.reg == nil {
		return nil, nil
	}
	return f.reg.Gather()
}
func (f *fakeSource) Replicas(context.Context) ([]Replica, error) {
	return []Replica{{ID: "cp-test", URL: "http://127.0.0.1:1/"}}, nil
}
func (f *fakeSource) Inject(_ context.Context, fault *edgelabv1.Fault) (*edgelabv1.Fault, error) {
	if fault.GetKind() == "nonsense" {
		return nil, status.Error(codes.InvalidArgument, "unknown fault kind")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.injected = append(f.injected, fault)
	return fault, nil
}
func (f *fakeSource) Heal(_ context.Context, id string, all bool) ([]string, error) {
	if id == "missing" {
		return nil, status.Error(codes.NotFound, "no fault missing")
	}
	return []string{id}, nil
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestHub(t *testing.T, src *fakeSource) (*Hub, *clock) {
	t.Helper()
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	h, err := NewHub(Config{Source: src, Now: clk.now, Window: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return h, clk
}

func node(id, region string, rev int64, connected bool, seen time.Time) *edgelabv1.Node {
	return &edgelabv1.Node{Id: id, Region: region, Pop: "P", AppliedRevision: rev, Connected: connected, Health: "ok", LastSeen: timestamppb.New(seen)}
}

func stateOf(t *testing.T, s *State, id string) string {
	t.Helper()
	for _, r := range s.Network.Regions {
		for _, n := range r.Nodes {
			if n.ID == id {
				return n.State
			}
		}
	}
	return "absent"
}

func TestNetworkStates(t *testing.T) {
	src := &fakeSource{status: &edgelabv1.GetStatusResponse{Revision: 10}}
	h, clk := newTestHub(t, src)
	src.nodes = []*edgelabv1.Node{
		node("a", "us-east-1", 10, true, clk.now()),
		node("b", "us-east-1", 8, true, clk.now()),
		node("c", "eu-west-1", 10, false, clk.now()),
		node("d", "eu-west-1", 10, true, clk.now()),
	}
	src.nodes[3].Health = "failing"
	h.refresh(context.Background())
	s, _ := h.Latest()
	for id, want := range map[string]string{"a": NodeUp, "b": NodeBehind, "c": NodeDown, "d": NodeUnhealthy} {
		if got := stateOf(t, s, id); got != want {
			t.Errorf("node %s: %s, want %s", id, got, want)
		}
	}
	// a vanishes from the list (killed, lease expired): shown down, not dropped.
	src.nodes = src.nodes[1:]
	clk.add(time.Second)
	h.refresh(context.Background())
	s, _ = h.Latest()
	if got := stateOf(t, s, "a"); got != NodeDown {
		t.Errorf("vanished node a: %s, want down", got)
	}
	// Forgotten after a long absence.
	clk.add(11 * time.Minute)
	h.refresh(context.Background())
	s, _ = h.Latest()
	if got := stateOf(t, s, "a"); got != "absent" {
		t.Errorf("node a gone 11 minutes: %s, want absent", got)
	}
}

// edgeMetrics registers the edge node metric names the dashboard reads.
type edgeMetrics struct {
	requests *prometheus.CounterVec
	origin   *prometheus.HistogramVec
	invoc    *prometheus.CounterVec
}

func newEdgeMetrics(reg *prometheus.Registry, node string) edgeMetrics {
	r := prometheus.WrapRegistererWith(prometheus.Labels{"node": node}, reg)
	m := edgeMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricRequests, Help: "h"}, []string{"result", "status"}),
		origin:   prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: metricOriginDur, Help: "h", Buckets: []float64{0.01, 0.1, 1}}, []string{"origin", "outcome"}),
		invoc:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricInvocations, Help: "h"}, []string{"function", "event", "outcome"}),
	}
	r.MustRegister(m.requests, m.origin, m.invoc)
	return m
}

func TestTrafficRatesFromNodeMetrics(t *testing.T) {
	src := &fakeSource{reg: prometheus.NewRegistry()}
	h, clk := newTestHub(t, src)
	src.nodes = []*edgelabv1.Node{node("a", "us-east-1", 0, true, clk.now())}
	m := newEdgeMetrics(src.reg, "a")
	m.requests.WithLabelValues("Hit", "200").Add(1) // a node shows up with its first series
	h.refresh(context.Background())                 // first sample: no rate yet
	m.requests.WithLabelValues("Hit", "200").Add(30)
	m.requests.WithLabelValues("Miss", "200").Add(10)
	m.requests.WithLabelValues("Error", "502").Add(4)
	m.requests.WithLabelValues("LambdaExecutionError", "503").Add(6)
	for range 10 {
		m.origin.WithLabelValues("web", "ok").Observe(0.05)
	}
	m.invoc.WithLabelValues("auth", "viewer-request", "continue").Add(8)
	m.invoc.WithLabelValues("auth", "viewer-request", "LambdaExecutionError").Add(2)
	clk.add(2 * time.Second)
	h.refresh(context.Background())
	s, _ := h.Latest()
	if s.Traffic.Source != "nodes" || len(s.Traffic.Nodes) != 1 || len(s.Traffic.Regions) != 1 {
		t.Fatalf("traffic %+v", s.Traffic)
	}
	p := s.Traffic.Nodes[0].Points[len(s.Traffic.Nodes[0].Points)-1]
	check := func(what string, got Num, want float64) {
		t.Helper()
		if math.Abs(float64(got)-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("rps", p.RPS, 25)              // 50 requests in 2 s
	check("hit ratio", p.HitRatio, 0.75) // 30 hits of 40 hits+misses
	check("5xx/s", p.Rate5xx, 5)         // 10 in 2 s
	check("exec errors/s", p.ExecutionErrors, 3)
	if p.OriginP50Ms < 10 || p.OriginP50Ms > 100 {
		t.Errorf("origin p50 %v ms, want within the 10..100 ms bucket", p.OriginP50Ms)
	}
	if r := s.Traffic.Regions[0].Points; len(r) == 0 || r[len(r)-1].RPS != p.RPS {
		t.Errorf("region series %+v does not sum its one node", r)
	}
	var auth *Function
	for i := range s.Functions.Functions {
		if s.Functions.Functions[i].Name == "auth" {
			auth = &s.Functions.Functions[i]
		}
	}
	if auth == nil || auth.Invocations != 10 || auth.ExecutionErrors != 2 || auth.LatestVersion != 3 ||
		len(auth.Nodes) != 1 || len(auth.Associated) != 1 || auth.Associated[0] != "auth:3 in demo" {
		t.Fatalf("function auth: %+v", auth)
	}

	// The node restarts: its counters start again below the old values.
	src.reg = prometheus.NewRegistry()
	m = newEdgeMetrics(src.reg, "a")
	m.requests.WithLabelValues("Miss", "200").Add(4)
	clk.add(2 * time.Second)
	h.refresh(context.Background())
	s, _ = h.Latest()
	p = s.Traffic.Nodes[0].Points[len(s.Traffic.Nodes[0].Points)-1]
	check("rps after a restart", p.RPS, 2) // the 4 new requests, not a negative rate
}

func TestTrafficSaysWhenMetricsAreMissing(t *testing.T) {
	h, _ := newTestHub(t, &fakeSource{})
	h.refresh(context.Background())
	if s, _ := h.Latest(); s.Traffic.Source != "none" {
		t.Fatalf("source %q, want none", s.Traffic.Source)
	}
}

func TestQuantile(t *testing.T) {
	h := hist{bounds: []float64{1, 2, 4}, counts: []float64{10, 30, 40}, total: 40}
	for _, c := range []struct{ q, want float64 }{{0.25, 1}, {0.5, 1.5}, {1, 4}} {
		if got := h.quantile(c.q); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("q%.2f = %v, want %v", c.q, got, c.want)
		}
	}
	if got := (hist{}).quantile(0.5); !math.IsNaN(got) {
		t.Errorf("empty histogram q50 = %v, want NaN", got)
	}
	// Beyond the last finite bound: that bound.
	inf := hist{bounds: []float64{1}, counts: []float64{1}, total: 10}
	if got := inf.quantile(0.99); got != 1 {
		t.Errorf("q99 beyond the buckets = %v, want 1", got)
	}
}

func TestChaosTimeline(t *testing.T) {
	src := &fakeSource{}
	h, clk := newTestHub(t, src)
	src.faults = []*edgelabv1.Fault{{Id: "f1", Kind: "kill", Target: "node:a", Created: timestamppb.New(clk.now()),
		Expires: timestamppb.New(clk.now().Add(30 * time.Second))}}
	h.refresh(context.Background())
	clk.add(10 * time.Second)
	h.refresh(context.Background())
	s, _ := h.Latest()
	if len(s.Chaos.Active) != 1 || s.Chaos.Active[0].Remaining != 20 {
		t.Fatalf("active %+v, want f1 with 20 s left", s.Chaos.Active)
	}
	src.faults = nil
	clk.add(time.Second)
	h.refresh(context.Background())
	s, _ = h.Latest()
	var actions []string
	for _, e := range s.Chaos.Timeline {
		actions = append(actions, e.ID+" "+e.Action)
	}
	if strings.Join(actions, ",") != "f1 injected,f1 healed" || len(s.Chaos.Active) != 0 {
		t.Fatalf("timeline %v, active %v", actions, s.Chaos.Active)
	}
	if !strings.Contains(strings.Join(s.Chaos.Targets, " "), "origin:web") {
		t.Errorf("targets %v lack the distribution's origin", s.Chaos.Targets)
	}
}

func TestRolloutHistory(t *testing.T) {
	src := &fakeSource{}
	h, clk := newTestHub(t, src)
	changed := clk.now()
	ds := func(rev int64, state edgelabv1.DeploymentState, acked bool) *edgelabv1.GetStatusResponse {
		n := &edgelabv1.NodeChangeStatus{NodeId: "a", Region: "us-east-1", Sent: timestamppb.New(changed.Add(100 * time.Millisecond))}
		if acked {
			n.Acked = timestamppb.New(changed.Add(900 * time.Millisecond))
		}
		return &edgelabv1.GetStatusResponse{Revision: rev, Distributions: []*edgelabv1.DistributionStatus{{
			DistributionId: "demo", Revision: rev, State: state, Changed: timestamppb.New(changed), Nodes: []*edgelabv1.NodeChangeStatus{n}}}}
	}
	src.status = ds(5, edgelabv1.DeploymentState_DEPLOYMENT_STATE_IN_PROGRESS, false)
	h.refresh(context.Background())
	src.status = ds(5, edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED, true)
	h.refresh(context.Background())
	src.status = ds(9, edgelabv1.DeploymentState_DEPLOYMENT_STATE_IN_PROGRESS, false)
	h.refresh(context.Background())
	s, _ := h.Latest()
	if len(s.Rollouts) != 2 {
		t.Fatalf("%d rollouts, want revisions 9 and 5", len(s.Rollouts))
	}
	old := s.Rollouts[1]
	if s.Rollouts[0].Revision != 9 || old.Revision != 5 || old.State != "Deployed" || old.DeployedMs != 900 ||
		old.Nodes[0].SentMs != 100 || old.Nodes[0].AckedMs != 900 {
		t.Fatalf("rollouts %+v", s.Rollouts)
	}
	if !math.IsNaN(float64(s.Rollouts[0].DeployedMs)) {
		t.Errorf("in-progress rollout has DeployedMs %v", s.Rollouts[0].DeployedMs)
	}
	if _, data := h.Latest(); !json.Valid(data) || !strings.Contains(string(data), `"deployedMs":null`) {
		t.Errorf("state JSON does not encode a missing time as null")
	}
}

func post(t *testing.T, srv *httptest.Server, path, body string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String()
}

func TestChaosPostsAreChecked(t *testing.T) {
	src := &fakeSource{}
	h, _ := newTestHub(t, src)
	srv := httptest.NewServer(Handler(h))
	defer srv.Close()
	good := `{"kind":"origin-latency","target":"origin:web","latency":"200ms","duration":"30s"}`
	cases := []struct {
		name, path, body string
		header           map[string]string
		want             int
	}{
		{"cross-site", "/api/chaos/inject", good, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"other origin", "/api/chaos/inject", good, map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"form post", "/api/chaos/inject", good, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"not JSON", "/api/chaos/inject", `kind=kill`, nil, http.StatusBadRequest},
		{"unknown field", "/api/chaos/inject", `{"kind":"kill","target":"node:a","evil":1}`, nil, http.StatusBadRequest},
		{"bad duration", "/api/chaos/inject", `{"kind":"kill","target":"node:a","duration":"soon"}`, nil, http.StatusBadRequest},
		{"negative duration", "/api/chaos/inject", `{"kind":"kill","target":"node:a","duration":"-5s"}`, nil, http.StatusBadRequest},
		{"rate above one", "/api/chaos/inject", `{"kind":"origin-errors","target":"origin:web","rate":7}`, nil, http.StatusBadRequest},
		{"no target", "/api/chaos/inject", `{"kind":"kill"}`, nil, http.StatusBadRequest},
		{"refused by the API", "/api/chaos/inject", `{"kind":"nonsense","target":"node:a"}`, nil, http.StatusBadRequest},
		{"huge body", "/api/chaos/inject", `{"kind":"` + strings.Repeat("k", 64<<10) + `"}`, nil, http.StatusBadRequest},
		{"heal nothing", "/api/chaos/heal", `{}`, nil, http.StatusBadRequest},
		{"heal unknown", "/api/chaos/heal", `{"id":"missing"}`, nil, http.StatusNotFound},
		{"same origin", "/api/chaos/inject", good, map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusOK},
		{"heal", "/api/chaos/heal", `{"id":"f1"}`, nil, http.StatusOK},
	}
	for _, c := range cases {
		if code, body := post(t, srv, c.path, c.body, c.header); code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, code, body, c.want)
		}
	}
	if len(src.injected) != 1 {
		t.Fatalf("%d faults reached the API, want only the good one", len(src.injected))
	}
	f := src.injected[0]
	if f.GetLatency().AsDuration() != 200*time.Millisecond || f.GetDuration().AsDuration() != 30*time.Second || f.GetTarget() != "origin:web" {
		t.Errorf("fault sent %v", f)
	}
}

func TestPagesAndJSON(t *testing.T) {
	src := &fakeSource{failLogs: errors.New("etcd away")}
	h, _ := newTestHub(t, src)
	h.refresh(context.Background())
	srv := httptest.NewServer(Handler(h))
	defer srv.Close()
	get := func(path string) (int, http.Header, string) {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
		return resp.StatusCode, resp.Header, b.String()
	}
	for _, p := range append([]string{"/"}, prefixed("/", Views)...) {
		code, hd, body := get(p)
		if code != 200 || !strings.Contains(body, `<nav aria-label="Views">`) || !strings.Contains(hd.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("GET %s: %d, CSP %q", p, code, hd.Get("Content-Security-Policy"))
		}
	}
	for _, a := range []string{"/assets/app.js", "/assets/app.css", "/assets/icon.svg"} {
		if code, _, _ := get(a); code != 200 {
			t.Errorf("GET %s: %d", a, code)
		}
	}
	code, _, body := get("/api/state")
	var s State
	if code != 200 || json.Unmarshal([]byte(body), &s) != nil || s.Replica != "cp-test" {
		t.Fatalf("GET /api/state: %d %.200s", code, body)
	}
	if !strings.Contains(strings.Join(s.Errors, ";"), "logs: etcd away") {
		t.Errorf("errors %v do not report the failed log read", s.Errors)
	}
	for _, p := range []string{"network", "rollouts", "traffic", "functions", "chaos", "logs", "replicas"} {
		if code, _, body := get("/api/" + p); code != 200 || !json.Valid([]byte(body)) {
			t.Errorf("GET /api/%s: %d %.100s", p, code, body)
		}
	}
	if code, _, _ := get("/api/secrets"); code != 404 {
		t.Errorf("GET /api/secrets: %d, want 404", code)
	}
	if code, _, _ := get("/nope"); code != 404 {
		t.Errorf("GET /nope: %d, want 404", code)
	}
}

func prefixed(p string, list []string) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = p + v
	}
	return out
}

func TestEventStreamEndsWithTheHub(t *testing.T) {
	h, _ := newTestHub(t, &fakeSource{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	srv := httptest.NewServer(Handler(h))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	next := func(prefix string) string {
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), prefix) {
				return sc.Text()
			}
		}
		t.Fatalf("stream ended before %q: %v", prefix, sc.Err())
		return ""
	}
	next("event: state")
	if data := next("data: "); !json.Valid([]byte(strings.TrimPrefix(data, "data: "))) {
		t.Fatalf("state event data is not JSON: %.100s", data)
	}
	cancel()
	next("event: bye")
	for sc.Scan() {
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestScraperReadsNodeMetricsOverHTTP(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newEdgeMetrics(reg, "edge-a")
	m.requests.WithLabelValues("Hit", "200").Add(7)
	srv := httptest.NewServer(promhttpHandler(reg))
	defer srv.Close()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("this is { not metrics\n"))
	}))
	defer garbage.Close()
	// One node answers, one is down, one answers nonsense: the answering
	// node's series come through.
	fams, err := Scraper{URLs: []string{srv.URL, "http://127.0.0.1:1/metrics", garbage.URL}}.Gather()
	if err != nil {
		t.Fatal(err)
	}
	c := countersByNode(fams)["edge-a"]
	if c == nil || c.requests != 7 || c.hits != 7 {
		t.Fatalf("scraped counters %+v", c)
	}
	if _, err := (Scraper{URLs: []string{"http://127.0.0.1:1/metrics"}}).Gather(); err == nil {
		t.Fatal("no node answered, and no error")
	}
}

func promhttpHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
