package edgenode

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/edgelab/edgelab/edge"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

// fakeRunner is a sandbox.Runner whose functions are Go closures.
type fakeRunner struct {
	mu       sync.Mutex
	calls    []string
	handlers map[string]func(inv sandbox.Invocation) sandbox.Result // by function name
	loaded   map[string]bool
	failLoad map[string]bool
	loads    int
	unloads  []string
}

var _ sandbox.Runner = (*fakeRunner)(nil)

func newFakeRunner() *fakeRunner {
	return &fakeRunner{handlers: map[string]func(sandbox.Invocation) sandbox.Result{}, loaded: map[string]bool{}, failLoad: map[string]bool{}}
}

func (f *fakeRunner) Load(_ context.Context, c sandbox.Code) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failLoad[c.Name] {
		return fmt.Errorf("compile: %s.go:1: undefined: foo", c.Name)
	}
	f.loads++
	f.loaded[fmt.Sprintf("%s:%d", c.Name, c.Version)] = true
	return nil
}

func (f *fakeRunner) Unload(name string, version int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := fmt.Sprintf("%s:%d", name, version)
	delete(f.loaded, k)
	f.unloads = append(f.unloads, k)
}

func (f *fakeRunner) Invoke(_ context.Context, inv sandbox.Invocation) (sandbox.Result, error) {
	f.mu.Lock()
	loaded := f.loaded[fmt.Sprintf("%s:%d", inv.Function, inv.Version)]
	f.calls = append(f.calls, string(inv.Event))
	h := f.handlers[inv.Function]
	f.mu.Unlock()
	if !loaded {
		return sandbox.Result{}, fmt.Errorf("%s:%d not loaded", inv.Function, inv.Version)
	}
	if h != nil {
		return h(sandbox.Invocation{Function: inv.Function, Version: inv.Version, Event: inv.Event,
			Request: inv.Request.Clone(), Response: inv.Response.Clone(), Info: inv.Info, FetchLatency: inv.FetchLatency}), nil
	}
	return sandbox.Result{Outcome: sandbox.OutcomeContinue, Request: inv.Request.Clone(), Response: inv.Response.Clone(), Duration: time.Microsecond}, nil
}

func (f *fakeRunner) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// cont is a continue result for the invocation (with optional edits).
func cont(inv sandbox.Invocation) sandbox.Result {
	return sandbox.Result{Outcome: sandbox.OutcomeContinue, Request: inv.Request, Response: inv.Response}
}

func generated(status int, body string) sandbox.Result {
	return sandbox.Result{Outcome: sandbox.OutcomeGenerated, Response: &edge.Response{
		Status: status, Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte(body)}}
}

// assoc is a shorthand association.
func assoc(ev edgelabv1.EventType, fn string) *edgelabv1.Association {
	return &edgelabv1.Association{EventType: ev, Function: fn, Version: 1}
}

const (
	evVR   = edgelabv1.EventType_EVENT_TYPE_VIEWER_REQUEST
	evOReq = edgelabv1.EventType_EVENT_TYPE_ORIGIN_REQUEST
	evORes = edgelabv1.EventType_EVENT_TYPE_ORIGIN_RESPONSE
	evVRes = edgelabv1.EventType_EVENT_TYPE_VIEWER_RESPONSE
)

// snapshot builds a one-distribution snapshot "d" on domain "*" with
// origins o1 (and o2, group g when secondary is set) and one default
// behavior, plus one version per function named in the associations.
func snapshot(rev int64, o1, o2 string, b *edgelabv1.Behavior) *edgelabv1.Snapshot {
	d := &edgelabv1.Distribution{Id: "d", Domains: []string{"*"}, Origins: []*edgelabv1.Origin{{Id: "o1", Url: o1}}}
	if b.Origin == "" {
		b.Origin = "o1"
	}
	if o2 != "" {
		d.Origins = append(d.Origins, &edgelabv1.Origin{Id: "o2", Url: o2, ConnectTimeout: durationpb.New(time.Second)})
		d.OriginGroups = []*edgelabv1.OriginGroup{{Id: "g", Primary: "o1", Secondary: "o2"}}
	}
	if b.Path == "" {
		b.Path = "default"
	}
	d.Behaviors = []*edgelabv1.Behavior{b}
	snap := &edgelabv1.Snapshot{Revision: rev, Distributions: []*edgelabv1.Distribution{d}}
	seen := map[string]bool{}
	for _, a := range b.Functions {
		if seen[a.Function] {
			continue
		}
		seen[a.Function] = true
		snap.Functions = append(snap.Functions, &edgelabv1.FunctionVersion{Name: a.Function, Version: a.Version, Sha256: a.Function,
			Files: []*edgelabv1.SourceFile{{Name: a.Function + ".go", Content: []byte("package " + a.Function)}}})
	}
	return snap
}

// startNode runs a node until the test ends.
func startNode(t testing.TB, r sandbox.Runner, mod func(*Config)) *Node {
	t.Helper()
	cfg := Config{NodeID: "n1", Region: "us-east-1", PoP: "IAD", Runner: r,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if mod != nil {
		mod(&cfg)
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return n
}

// countingOrigin is an httptest origin that counts requests per path.
type countingOrigin struct {
	*httptest.Server
	hits atomic.Int64
	mu   sync.Mutex
	seen []string // paths (with query) seen
}

func newCountingOrigin(t testing.TB, h http.HandlerFunc) *countingOrigin {
	t.Helper()
	o := &countingOrigin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		o.mu.Lock()
		o.seen = append(o.seen, r.URL.RequestURI())
		o.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *countingOrigin) lastSeen() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.seen) == 0 {
		return ""
	}
	return o.seen[len(o.seen)-1]
}

// okHandler answers 200 "body:<path>" with the given Cache-Control (query cc overrides).
func okHandler(cc string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query().Get("cc"); q != "" {
			cc = q
		}
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		if strings.HasPrefix(r.URL.Path, "/status/") {
			var code int
			fmt.Sscanf(r.URL.Path, "/status/%d", &code)
			w.WriteHeader(code)
		}
		fmt.Fprintf(w, "body:%s", r.URL.Path)
	}
}

type result struct {
	status int
	header http.Header
	body   string
}

func do(t testing.TB, n *Node, method, path string, hdr map[string]string, body string) result {
	t.Helper()
	req, err := http.NewRequest(method, n.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func xcache(r result) string { return strings.TrimSuffix(r.header.Get("X-Cache"), " from edgelab") }
