package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgelab/edgelab/gateway"
)

// matrix is a symmetric one-way latency table for tests.
type matrix map[[2]string]time.Duration

func (m matrix) Latency(from, to string) time.Duration {
	if from == to {
		return time.Millisecond
	}
	if d, ok := m[[2]string{from, to}]; ok {
		return d
	}
	if d, ok := m[[2]string{to, from}]; ok {
		return d
	}
	return time.Second
}

var testMatrix = matrix{
	{"us-east-1", "eu-west-1"}:      40 * time.Millisecond,
	{"us-east-1", "ap-northeast-1"}: 80 * time.Millisecond,
	{"eu-west-1", "ap-northeast-1"}: 110 * time.Millisecond,
	{"sa-east-1", "us-east-1"}:      60 * time.Millisecond,
	{"sa-east-1", "eu-west-1"}:      95 * time.Millisecond,
	{"sa-east-1", "ap-northeast-1"}: 130 * time.Millisecond,
}

// echo is what a fake edge answers.
type echo struct {
	Edge         string `json:"edge"`
	Method       string `json:"method"`
	Path         string `json:"path"`
	RawQuery     string `json:"rawQuery"`
	Host         string `json:"host"`
	ViewerRegion string `json:"viewerRegion"`
	Simulate     string `json:"simulate"`
	Body         string `json:"body"`
}

// fakeEdge is an edge node stand-in that can be killed and restarted on the
// same port.
type fakeEdge struct {
	t       *testing.T
	id      string
	addr    string
	handler http.Handler
	hits    atomic.Int64
	hang    atomic.Bool // health checks hang (a paused process)

	mu  sync.Mutex
	srv *httptest.Server
}

func newFakeEdge(t *testing.T, id string, h http.HandlerFunc) *fakeEdge {
	t.Helper()
	e := &fakeEdge{t: t, id: id}
	e.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == gateway.DefaultHealthPath {
			if e.hang.Load() {
				<-r.Context().Done()
				return
			}
			w.WriteHeader(http.StatusOK)
			return
		}
		e.hits.Add(1)
		if h != nil {
			h(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Cache", "Miss from edgelab")
		w.Header().Set("X-Edgelab-Node", id)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echo{
			Edge: id, Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Host: r.Host,
			ViewerRegion: r.Header.Get(gateway.HeaderViewerRegion),
			Simulate:     r.Header.Get(gateway.HeaderSimulateLatency), Body: string(body),
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	e.addr = ln.Addr().String()
	e.serve(ln)
	t.Cleanup(e.kill)
	return e
}

func (e *fakeEdge) serve(ln net.Listener) {
	srv := httptest.NewUnstartedServer(e.handler)
	_ = srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	e.mu.Lock()
	e.srv = srv
	e.mu.Unlock()
}

func (e *fakeEdge) url() string { return "http://" + e.addr }

// kill drops every connection and closes the listener, like a crashed process.
func (e *fakeEdge) kill() {
	e.mu.Lock()
	srv := e.srv
	e.srv = nil
	e.mu.Unlock()
	if srv != nil {
		srv.CloseClientConnections()
		srv.Close()
	}
}

// restart listens again on the same port.
func (e *fakeEdge) restart() {
	e.t.Helper()
	ln, err := net.Listen("tcp", e.addr)
	if err != nil {
		e.t.Fatalf("relisten on %s: %v", e.addr, err)
	}
	e.serve(ln)
}

func (e *fakeEdge) edge(region string) gateway.Edge {
	return gateway.Edge{ID: e.id, Region: region, PoP: region + "-pop1", URL: e.url()}
}

func startGateway(t *testing.T, cfg gateway.Config) (*gateway.Gateway, string) {
	t.Helper()
	cfg.ListenAddr = "127.0.0.1:0"
	if cfg.Topology == nil {
		cfg.Topology = testMatrix
	}
	gw, err := gateway.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := gw.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := gw.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return gw, "http://" + gw.Addr().String()
}

func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func get(t *testing.T, c *http.Client, url string, hdr map[string]string) (*http.Response, echo) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var e echo
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("decoding %q: %v", b, err)
		}
	}
	return resp, e
}

func healthyOf(gw *gateway.Gateway, id string) bool {
	for _, s := range gw.Edges() {
		if s.ID == id {
			return s.Healthy
		}
	}
	return false
}

func TestRoutesToNearestEdgeByRegion(t *testing.T) {
	use := newFakeEdge(t, "use1-a", nil)
	euw := newFakeEdge(t, "euw1-a", nil)
	apne := newFakeEdge(t, "apne1-a", nil)
	_, base := startGateway(t, gateway.Config{
		DefaultRegion: "eu-west-1",
		Edges:         []gateway.Edge{use.edge("us-east-1"), euw.edge("eu-west-1"), apne.edge("ap-northeast-1")},
	})
	c := newClient(t)
	tests := []struct {
		name       string
		path       string
		hdr        map[string]string
		wantEdge   string
		wantRegion string
		wantQuery  string
	}{
		{name: "header us-east-1", path: "/a", hdr: map[string]string{"X-Viewer-Region": "us-east-1"}, wantEdge: "use1-a", wantRegion: "us-east-1"},
		{name: "header ap-northeast-1", path: "/a", hdr: map[string]string{"X-Viewer-Region": "ap-northeast-1"}, wantEdge: "apne1-a", wantRegion: "ap-northeast-1"},
		{name: "region without edge goes to nearest", path: "/a", hdr: map[string]string{"X-Viewer-Region": "sa-east-1"}, wantEdge: "use1-a", wantRegion: "sa-east-1"},
		{name: "query param stripped, others kept in order", path: "/a?z=1&viewer-region=ap-northeast-1&a=%20b", wantEdge: "apne1-a", wantRegion: "ap-northeast-1", wantQuery: "z=1&a=%20b"},
		{name: "escaped query key", path: "/a?viewer%2Dregion=us-east-1", wantEdge: "use1-a", wantRegion: "us-east-1"},
		{name: "header wins over query", path: "/a?viewer-region=ap-northeast-1", hdr: map[string]string{"X-Viewer-Region": "us-east-1"}, wantEdge: "use1-a", wantRegion: "us-east-1"},
		{name: "default region", path: "/a?x=1", wantEdge: "euw1-a", wantRegion: "eu-west-1", wantQuery: "x=1"},
		{name: "hostile region falls back to default", path: "/a", hdr: map[string]string{"X-Viewer-Region": "us-east-1\"><script>"}, wantEdge: "euw1-a", wantRegion: "eu-west-1"},
		{name: "overlong region falls back to default", path: "/a", hdr: map[string]string{"X-Viewer-Region": strings.Repeat("a", 4096)}, wantEdge: "euw1-a", wantRegion: "eu-west-1"},
		{name: "bad query escape falls back", path: "/a?viewer-region=%zz", wantEdge: "euw1-a", wantRegion: "eu-west-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, e := get(t, c, base+tc.path, tc.hdr)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := resp.Header.Get(gateway.HeaderGatewayEdge); got != tc.wantEdge {
				t.Errorf("gateway edge header = %q, want %q", got, tc.wantEdge)
			}
			if e.Edge != tc.wantEdge {
				t.Errorf("served by %q, want %q", e.Edge, tc.wantEdge)
			}
			if got := resp.Header.Get("X-Cache"); got != "Miss from edgelab" {
				t.Errorf("edge header X-Cache not passed through: %q", got)
			}
			if e.ViewerRegion != tc.wantRegion {
				t.Errorf("forwarded viewer region %q, want %q", e.ViewerRegion, tc.wantRegion)
			}
			if strings.Contains(tc.path, "?") && !strings.Contains(tc.path, "%zz") && e.RawQuery != tc.wantQuery {
				t.Errorf("forwarded query %q, want %q", e.RawQuery, tc.wantQuery)
			}
			if !strings.HasPrefix(e.Host, "127.0.0.1:") {
				t.Errorf("Host %q not preserved from viewer", e.Host)
			}
		})
	}
}

func TestTiesRotateWithinRegion(t *testing.T) {
	a := newFakeEdge(t, "use1-a", nil)
	b := newFakeEdge(t, "use1-b", nil)
	far := newFakeEdge(t, "apne1-a", nil)
	_, base := startGateway(t, gateway.Config{
		Edges: []gateway.Edge{a.edge("us-east-1"), b.edge("us-east-1"), far.edge("ap-northeast-1")},
	})
	c := newClient(t)
	for range 20 {
		resp, _ := get(t, c, base+"/", map[string]string{"X-Viewer-Region": "us-east-1"})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if a.hits.Load() == 0 || b.hits.Load() == 0 || far.hits.Load() != 0 {
		t.Fatalf("hits a=%d b=%d far=%d, want a,b > 0 and far = 0", a.hits.Load(), b.hits.Load(), far.hits.Load())
	}
}

// TestKillEdgeUnderLoad is the failover contract: an edge dies during a bounded
// load of GETs, no viewer request fails, the edge leaves rotation within a
// second, and it gets traffic again after it comes back.
func TestKillEdgeUnderLoad(t *testing.T) {
	near := newFakeEdge(t, "use1-a", nil)
	next := newFakeEdge(t, "euw1-a", nil)
	gw, base := startGateway(t, gateway.Config{
		Edges: []gateway.Edge{near.edge("us-east-1"), next.edge("eu-west-1")},
	})
	c := newClient(t)
	hdr := map[string]string{"X-Viewer-Region": "us-east-1"}

	const workers, total = 8, 1200
	var (
		sent, failed atomic.Int64
		firstErr     atomic.Value
		wg           sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for sent.Add(1) <= total {
				req, _ := http.NewRequest(http.MethodGet, base+"/load", nil)
				req.Header.Set("X-Viewer-Region", hdr["X-Viewer-Region"])
				resp, err := c.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	// Kill the nearest edge once it has served part of the load.
	poll.True(t, 10*time.Second, "near edge serving load", func() bool { return near.hits.Load() >= 100 })
	near.kill()
	took := poll.True(t, time.Second, "dead edge out of rotation", func() bool { return !healthyOf(gw, "use1-a") })
	t.Logf("dead edge ejected after %v", took)
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed; first: %v", n, total, firstErr.Load())
	}
	if next.hits.Load() == 0 {
		t.Fatalf("next-nearest edge got no traffic after the kill")
	}

	// It comes back: health checks return it to rotation and it serves again.
	near.restart()
	poll.True(t, 5*time.Second, "edge back in rotation", func() bool { return healthyOf(gw, "use1-a") })
	before := near.hits.Load()
	resp, e := get(t, c, base+"/back", hdr)
	if resp.StatusCode != http.StatusOK || e.Edge != "use1-a" || near.hits.Load() != before+1 {
		t.Fatalf("after restart: status %d served by %q, want use1-a", resp.StatusCode, e.Edge)
	}
}

// TestDeadEdgeLeavesRotationWithoutTraffic checks the active health check alone.
func TestDeadEdgeLeavesRotationWithoutTraffic(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(e *fakeEdge) // makes the edge unhealthy
	}{
		{name: "process dies", break_: func(e *fakeEdge) { e.kill() }},
		{name: "process hangs", break_: func(e *fakeEdge) { e.hang.Store(true) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFakeEdge(t, "use1-a", nil)
			other := newFakeEdge(t, "euw1-a", nil)
			gw, _ := startGateway(t, gateway.Config{Edges: []gateway.Edge{e.edge("us-east-1"), other.edge("eu-west-1")}})
			tc.break_(e)
			took := poll.True(t, time.Second, "ejected by active check", func() bool { return !healthyOf(gw, "use1-a") })
			t.Logf("ejected after %v", took)
			if !healthyOf(gw, "euw1-a") {
				t.Fatalf("healthy edge was ejected too")
			}
		})
	}
}

func TestUnhealthyStatusEjectsAndRecovers(t *testing.T) {
	var sick atomic.Bool
	e := newFakeEdge(t, "use1-a", nil)
	e.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sick.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	e.kill()
	e.restart()
	gw, _ := startGateway(t, gateway.Config{Edges: []gateway.Edge{e.edge("us-east-1")}})
	sick.Store(true)
	poll.True(t, time.Second, "503 health ejects", func() bool { return !healthyOf(gw, "use1-a") })
	sick.Store(false)
	poll.True(t, 2*time.Second, "200 health restores", func() bool { return healthyOf(gw, "use1-a") })
}

// resetHandler closes the connection without a response (an RST).
func resetHandler(w http.ResponseWriter, r *http.Request) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("no hijacker")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func TestRetryPolicy(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		body       string
		wantStatus int
		wantNext   int64 // requests the next edge must see
	}{
		{name: "GET retried on reset", method: http.MethodGet, wantStatus: 200, wantNext: 1},
		{name: "HEAD retried on reset", method: http.MethodHead, wantStatus: 200, wantNext: 1},
		{name: "OPTIONS with small body retried", method: http.MethodOptions, body: "ping", wantStatus: 200, wantNext: 1},
		{name: "POST not retried", method: http.MethodPost, body: "x=1", wantStatus: 502, wantNext: 0},
		{name: "PUT not retried", method: http.MethodPut, body: "x", wantStatus: 502, wantNext: 0},
		{name: "DELETE not retried", method: http.MethodDelete, wantStatus: 502, wantNext: 0},
		{name: "PATCH not retried", method: http.MethodPatch, body: "x", wantStatus: 502, wantNext: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := newFakeEdge(t, "use1-a", resetHandler)
			next := newFakeEdge(t, "euw1-a", nil)
			// Passive ejection only, so the reset edge stays first in line
			// until this request hits it.
			_, base := startGateway(t, gateway.Config{
				HealthInterval: -1,
				Edges:          []gateway.Edge{bad.edge("us-east-1"), next.edge("eu-west-1")},
			})
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, _ := http.NewRequest(tc.method, base+"/x", body)
			req.Header.Set("X-Viewer-Region", "us-east-1")
			resp, err := newClient(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.wantStatus, b)
			}
			if got := next.hits.Load(); got != tc.wantNext {
				t.Fatalf("next edge saw %d requests, want %d", got, tc.wantNext)
			}
			if bad.hits.Load() == 0 {
				t.Fatalf("nearest edge never tried")
			}
			if tc.wantStatus == 200 && tc.method != http.MethodHead {
				var e echo
				if err := json.Unmarshal(b, &e); err != nil {
					t.Fatal(err)
				}
				if e.Body != tc.body {
					t.Fatalf("retried body %q, want %q", e.Body, tc.body)
				}
			}
		})
	}
}

func TestAllEdgesDown(t *testing.T) {
	a := newFakeEdge(t, "use1-a", nil)
	b := newFakeEdge(t, "euw1-a", nil)
	gw, base := startGateway(t, gateway.Config{Edges: []gateway.Edge{a.edge("us-east-1"), b.edge("eu-west-1")}})
	a.kill()
	b.kill()
	poll.True(t, time.Second, "both ejected", func() bool { return !healthyOf(gw, "use1-a") && !healthyOf(gw, "euw1-a") })
	resp, _ := get(t, newClient(t), base+"/", nil)
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
}

func TestNoEdges(t *testing.T) {
	_, base := startGateway(t, gateway.Config{})
	resp, _ := get(t, newClient(t), base+"/", nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
}

func TestSetEdges(t *testing.T) {
	a := newFakeEdge(t, "a", nil)
	b := newFakeEdge(t, "b", nil)
	gw, base := startGateway(t, gateway.Config{Edges: []gateway.Edge{a.edge("us-east-1")}})
	c := newClient(t)
	if err := gw.SetEdges([]gateway.Edge{b.edge("us-east-1")}); err != nil {
		t.Fatal(err)
	}
	resp, e := get(t, c, base+"/", nil)
	if resp.StatusCode != 200 || e.Edge != "b" {
		t.Fatalf("after SetEdges served by %q (%d), want b", e.Edge, resp.StatusCode)
	}
	if got := gw.Edges(); len(got) != 1 || got[0].ID != "b" {
		t.Fatalf("Edges() = %+v", got)
	}

	bad := []struct {
		name  string
		edges []gateway.Edge
	}{
		{"missing id", []gateway.Edge{{Region: "r", URL: "http://x"}}},
		{"missing region", []gateway.Edge{{ID: "x", URL: "http://x"}}},
		{"duplicate id", []gateway.Edge{{ID: "x", Region: "r", URL: "http://a"}, {ID: "x", Region: "r", URL: "http://b"}}},
		{"no scheme", []gateway.Edge{{ID: "x", Region: "r", URL: "127.0.0.1:80"}}},
		{"ftp", []gateway.Edge{{ID: "x", Region: "r", URL: "ftp://h"}}},
		{"garbage", []gateway.Edge{{ID: "x", Region: "r", URL: "http://[::1"}}},
		{"empty host", []gateway.Edge{{ID: "x", Region: "r", URL: "http://"}}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if err := gw.SetEdges(tc.edges); err == nil {
				t.Fatalf("SetEdges accepted %+v", tc.edges)
			}
			if got := gw.Edges(); len(got) != 1 || got[0].ID != "b" {
				t.Fatalf("failed SetEdges changed the list: %+v", got)
			}
		})
	}
}

func TestAdminEndpoints(t *testing.T) {
	a := newFakeEdge(t, "use1-a", nil)
	reg := prometheus.NewRegistry()
	_, base := startGateway(t, gateway.Config{Edges: []gateway.Edge{a.edge("us-east-1")}, Registerer: reg})
	c := newClient(t)
	get(t, c, base+"/warm", nil)

	tests := []struct {
		method, path string
		wantStatus   int
		wantBody     string
	}{
		{http.MethodGet, "/_gateway/edges", 200, `"id": "use1-a"`},
		{http.MethodGet, "/_gateway/health", 200, "ok"},
		{http.MethodGet, "/_gateway/metrics", 200, `edgelab_gateway_requests_total{code="200",edge="use1-a"} 1`},
		{http.MethodGet, "/_gateway/nope", 404, ""},
		{http.MethodPost, "/_gateway/edges", 405, ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus || !strings.Contains(string(b), tc.wantBody) {
				t.Fatalf("%s %s = %d %q, want %d containing %q", tc.method, tc.path, resp.StatusCode, b, tc.wantStatus, tc.wantBody)
			}
		})
	}
	if a.hits.Load() != 1 {
		t.Fatalf("admin requests leaked to the edge: %d hits", a.hits.Load())
	}

	// The JSON decodes into EdgeStatus.
	resp, err := c.Get(base + "/_gateway/edges")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st []gateway.EdgeStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || !st[0].Healthy || st[0].URL != a.url() {
		t.Fatalf("edges = %+v", st)
	}
}

func TestMetricsRegisterTwiceFails(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := gateway.New(gateway.Config{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := gateway.New(gateway.Config{Registerer: reg}); err == nil {
		t.Fatal("second gateway on one registry: want error")
	}
	// Separate registries: two gateways in one process are fine.
	if _, err := gateway.New(gateway.Config{Registerer: prometheus.NewRegistry()}); err != nil {
		t.Fatal(err)
	}
}

func TestSimulatedLatency(t *testing.T) {
	e := newFakeEdge(t, "apne1-a", nil)
	_, base := startGateway(t, gateway.Config{Edges: []gateway.Edge{e.edge("ap-northeast-1")}})
	c := newClient(t)
	start := time.Now()
	resp, got := get(t, c, base+"/", map[string]string{"X-Viewer-Region": "us-east-1", gateway.HeaderSimulateLatency: "1"})
	el := time.Since(start)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if el < 160*time.Millisecond { // 2 x 80ms one-way
		t.Fatalf("took %v, want at least the modelled 160ms round trip", el)
	}
	if got.Simulate != "" {
		t.Fatalf("simulate header forwarded to the edge")
	}
}

func TestViewerCancelDoesNotEject(t *testing.T) {
	release := make(chan struct{})
	slow := newFakeEdge(t, "use1-a", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	reg := prometheus.NewRegistry()
	gw, base := startGateway(t, gateway.Config{HealthInterval: -1, Registerer: reg, Edges: []gateway.Edge{slow.edge("us-east-1")}})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/", nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := newClient(t).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	poll.True(t, 5*time.Second, "request reached edge", func() bool { return slow.hits.Load() == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("client error %v, want canceled", err)
	}
	c := newClient(t)
	poll.True(t, 5*time.Second, "gateway saw the cancel", func() bool {
		resp, err := c.Get(base + "/_gateway/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `code="499"`)
	})
	if !healthyOf(gw, "use1-a") {
		t.Fatalf("edge ejected because the viewer went away")
	}
}
