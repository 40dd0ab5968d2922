package edgenode

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/edgelab/edgelab/edge"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

// step is one viewer request and what it must produce.
type step struct {
	path      string
	status    int
	xcache    string
	calls     []string // events invoked, in order
	body      string   // substring
	hdr       map[string]string
	originHit *int64 // cumulative origin hits after the step (nil = don't check)
}

func TestTriggerPlacement(t *testing.T) {
	const (
		VR   = "viewer-request"
		OReq = "origin-request"
		ORes = "origin-response"
		VRes = "viewer-response"
	)
	tests := []struct {
		name     string
		assocs   []*edgelabv1.Association
		handlers map[string]func(sandbox.Invocation) sandbox.Result
		steps    []step
	}{
		{
			name: "no functions: miss then hit",
			steps: []step{
				{path: "/a", status: 200, xcache: "Miss", body: "body:/a", originHit: hits(1)},
				{path: "/a", status: 200, xcache: "Hit", body: "body:/a", originHit: hits(1)},
			},
		},
		{
			name:   "all four continue: order on miss, viewer events only on hit",
			assocs: []*edgelabv1.Association{assoc(evVR, "vr"), assoc(evOReq, "oreq"), assoc(evORes, "ores"), assoc(evVRes, "vres")},
			steps: []step{
				{path: "/a", status: 200, xcache: "Miss", calls: []string{VR, OReq, ORes, VRes}, originHit: hits(1),
					hdr: map[string]string{"X-Edgelab-Functions": "viewer-request=vr:1, origin-request=oreq:1, origin-response=ores:1, viewer-response=vres:1"}},
				{path: "/a", status: 200, xcache: "Hit", calls: []string{VR, VRes}, originHit: hits(1),
					hdr: map[string]string{"X-Edgelab-Functions": "viewer-request=vr:1, viewer-response=vres:1"}},
			},
		},
		{
			name:     "viewer-request generated: not cached, viewer-response skipped",
			assocs:   []*edgelabv1.Association{assoc(evVR, "vr"), assoc(evVRes, "vres")},
			handlers: map[string]func(sandbox.Invocation) sandbox.Result{"vr": func(sandbox.Invocation) sandbox.Result { return generated(403, "denied") }},
			steps: []step{
				{path: "/a", status: 403, xcache: "LambdaGeneratedResponse", calls: []string{VR}, body: "denied", originHit: hits(0)},
				{path: "/a", status: 403, xcache: "LambdaGeneratedResponse", calls: []string{VR}, body: "denied", originHit: hits(0)},
			},
		},
		{
			name:   "origin-request generated: cached, origin-response skipped, viewer-response runs",
			assocs: []*edgelabv1.Association{assoc(evOReq, "oreq"), assoc(evORes, "ores"), assoc(evVRes, "vres")},
			handlers: map[string]func(sandbox.Invocation) sandbox.Result{"oreq": func(sandbox.Invocation) sandbox.Result {
				return generated(200, "from-oreq")
			}},
			steps: []step{
				{path: "/a", status: 200, xcache: "Miss", calls: []string{OReq, VRes}, body: "from-oreq", originHit: hits(0)},
				{path: "/a", status: 200, xcache: "Hit", calls: []string{VRes}, body: "from-oreq", originHit: hits(0)},
			},
		},
		{
			name:   "origin 404: origin-response runs, viewer-response skipped, error cached",
			assocs: []*edgelabv1.Association{assoc(evORes, "ores"), assoc(evVRes, "vres")},
			steps: []step{
				{path: "/status/404", status: 404, xcache: "Error", calls: []string{ORes}, originHit: hits(1)},
				{path: "/status/404", status: 404, xcache: "Error", calls: nil, originHit: hits(1)},
			},
		},
		{
			name:   "origin 302: viewer-response runs on 3xx",
			assocs: []*edgelabv1.Association{assoc(evVRes, "vres")},
			steps: []step{
				{path: "/status/302", status: 302, xcache: "Miss", calls: []string{VRes}, originHit: hits(1)},
			},
		},
		{
			name:   "origin-response replaces body and adds header; the result is cached",
			assocs: []*edgelabv1.Association{assoc(evORes, "ores")},
			handlers: map[string]func(sandbox.Invocation) sandbox.Result{"ores": func(inv sandbox.Invocation) sandbox.Result {
				inv.Response.Header.Set("X-Added", "yes")
				inv.Response.Body = []byte("replaced")
				if len(inv.Response.Body) == 0 {
					panic("unreachable")
				}
				return cont(inv)
			}},
			steps: []step{
				{path: "/a", status: 200, xcache: "Miss", calls: []string{ORes}, body: "replaced", hdr: map[string]string{"X-Added": "yes"}},
				{path: "/a", status: 200, xcache: "Hit", calls: nil, body: "replaced", hdr: map[string]string{"X-Added": "yes"}},
			},
		},
		{
			name:   "viewer-response changing the status is a validation error",
			assocs: []*edgelabv1.Association{assoc(evVRes, "vres")},
			handlers: map[string]func(sandbox.Invocation) sandbox.Result{"vres": func(inv sandbox.Invocation) sandbox.Result {
				inv.Response.Status = 201
				inv.Response.Header.Set("X-Vres", "1")
				return cont(inv)
			}},
			steps: []step{{path: "/a", status: 502, xcache: "LambdaValidationError", calls: []string{VRes}}},
		},
		{
			name:   "viewer-request rewrites the URI: origin and cache key follow",
			assocs: []*edgelabv1.Association{assoc(evVR, "vr")},
			handlers: map[string]func(sandbox.Invocation) sandbox.Result{"vr": func(inv sandbox.Invocation) sandbox.Result {
				inv.Request.URI = "/rewritten" + inv.Request.URI
				return cont(inv)
			}},
			steps: []step{
				{path: "/x", status: 200, xcache: "Miss", body: "body:/rewritten/x", calls: []string{VR}, originHit: hits(1)},
				{path: "/x", status: 200, xcache: "Hit", body: "body:/rewritten/x", calls: []string{VR}, originHit: hits(1)},
			},
		},
		{
			name:   "viewer-request validation error: 502",
			assocs: []*edgelabv1.Association{assoc(evVR, "vr"), assoc(evVRes, "vres")},
			handlers: map[string]func(sandbox.Invocation) sandbox.Result{"vr": func(sandbox.Invocation) sandbox.Result {
				return sandbox.Result{Outcome: sandbox.OutcomeValidationError, Err: errors.New("status 700")}
			}},
			steps: []step{{path: "/a", status: 502, xcache: "LambdaValidationError", calls: []string{VR}, body: "The request could not be satisfied", originHit: hits(0)}},
		},
		{
			name:   "origin-request execution error: 503, nothing cached",
			assocs: []*edgelabv1.Association{assoc(evOReq, "oreq")},
			handlers: map[string]func(sandbox.Invocation) sandbox.Result{"oreq": func(sandbox.Invocation) sandbox.Result {
				return sandbox.Result{Outcome: sandbox.OutcomeExecutionError, Err: errors.New("panic")}
			}},
			steps: []step{
				{path: "/a", status: 503, xcache: "LambdaExecutionError", calls: []string{OReq}, originHit: hits(0)},
				{path: "/a", status: 503, xcache: "LambdaExecutionError", calls: []string{OReq}, originHit: hits(0)},
			},
		},
		{
			name:   "origin-response error: 503 and not cached",
			assocs: []*edgelabv1.Association{assoc(evORes, "ores")},
			handlers: map[string]func(sandbox.Invocation) sandbox.Result{"ores": func(sandbox.Invocation) sandbox.Result {
				return sandbox.Result{Outcome: sandbox.OutcomeExecutionError, Err: errors.New("timeout")}
			}},
			steps: []step{
				{path: "/a", status: 503, xcache: "LambdaExecutionError", calls: []string{ORes}, originHit: hits(1)},
				{path: "/a", status: 503, xcache: "LambdaExecutionError", calls: []string{ORes}, originHit: hits(2)},
			},
		},
		{
			name:   "viewer-response throttled: 503 LambdaLimitExceeded",
			assocs: []*edgelabv1.Association{assoc(evVRes, "vres")},
			handlers: map[string]func(sandbox.Invocation) sandbox.Result{"vres": func(sandbox.Invocation) sandbox.Result {
				return sandbox.Result{Outcome: sandbox.OutcomeLimitExceeded}
			}},
			steps: []step{{path: "/a", status: 503, xcache: "LambdaLimitExceeded", calls: []string{VRes}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fr := newFakeRunner()
			for k, v := range tc.handlers {
				fr.handlers[k] = v
			}
			o := newCountingOrigin(t, okHandler(""))
			n := startNode(t, fr, nil)
			if err := n.Apply(context.Background(), snapshot(1, o.URL, "", &edgelabv1.Behavior{Functions: tc.assocs}), nil); err != nil {
				t.Fatal(err)
			}
			for i, s := range tc.steps {
				r := do(t, n, "GET", s.path, nil, "")
				calls := fr.takeCalls()
				if r.status != s.status || xcache(r) != s.xcache {
					t.Fatalf("step %d: status %d X-Cache %q, want %d %q (body %q)", i, r.status, xcache(r), s.status, s.xcache, r.body)
				}
				if !slices.Equal(calls, s.calls) {
					t.Errorf("step %d: calls %v, want %v", i, calls, s.calls)
				}
				if !strings.Contains(r.body, s.body) {
					t.Errorf("step %d: body %q lacks %q", i, r.body, s.body)
				}
				for k, v := range s.hdr {
					if got := r.header.Get(k); got != v {
						t.Errorf("step %d: %s = %q, want %q", i, k, got, v)
					}
				}
				if s.originHit != nil && o.hits.Load() != *s.originHit {
					t.Errorf("step %d: origin hits %d, want %d", i, o.hits.Load(), *s.originHit)
				}
				for _, h := range []string{"X-Edgelab-Request-Id", "X-Edgelab-Pop", "X-Edgelab-Node", "Via"} {
					if r.header.Get(h) == "" {
						t.Errorf("step %d: missing %s", i, h)
					}
				}
				if strings.HasPrefix(s.xcache, "Lambda") && s.xcache != "LambdaGeneratedResponse" && !strings.Contains(r.body, r.header.Get("X-Edgelab-Request-Id")) {
					t.Errorf("step %d: error page lacks the request id", i)
				}
			}
		})
	}
}

func hits(n int64) *int64 { return &n }

// TestFunctionSeesFilteredHeadersAndInfo checks what a function is given.
func TestFunctionSeesFilteredHeadersAndInfo(t *testing.T) {
	fr := newFakeRunner()
	var got sandbox.Invocation
	fr.handlers["vr"] = func(inv sandbox.Invocation) sandbox.Result {
		got = inv
		got.Request = inv.Request.Clone() // the node may reuse the returned request
		return cont(inv)
	}
	var lines []*edgelabv1.LogLine
	fr.handlers["vres"] = func(inv sandbox.Invocation) sandbox.Result {
		r := cont(inv)
		r.Logs = []sandbox.LogLine{{Message: "hello from vres"}}
		return r
	}
	o := newCountingOrigin(t, okHandler(""))
	n := startNode(t, fr, func(c *Config) { c.LogSink = func(l []*edgelabv1.LogLine) { lines = append(lines, l...) } })
	if err := n.Apply(context.Background(), snapshot(1, o.URL, "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{
		{EventType: evVR, Function: "vr", Version: 1, IncludeBody: true}, assoc(evVRes, "vres")}}), nil); err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("x", 50<<10)
	r := do(t, n, "POST", "/p?q=1", map[string]string{"X-Amz-Cf-Id": "secret", "X-Forwarded-Proto": "https", "X-Edgelab-Foo": "1", "X-Keep": "k", "Host": "demo.test"}, body)
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	for _, h := range []string{"X-Amz-Cf-Id", "X-Forwarded-Proto", "X-Edgelab-Foo"} {
		if got.Request.Header.Get(h) != "" {
			t.Errorf("disallowed header %s exposed", h)
		}
	}
	if got.Request.Header.Get("X-Keep") != "k" || got.Request.Header.Get("Host") != "demo.test" {
		t.Errorf("headers = %v", got.Request.Header)
	}
	if got.Request.Method != "POST" || got.Request.URI != "/p" || got.Request.QueryString != "q=1" || got.Request.ClientIP != "127.0.0.1" {
		t.Errorf("request = %+v", got.Request)
	}
	if got.Request.Body == nil || !got.Request.Body.Truncated || len(got.Request.Body.Data) != 40<<10 {
		t.Errorf("include-body: %+v", got.Request.Body)
	}
	if got.Info.RequestID != r.header.Get("X-Edgelab-Request-Id") || got.Info.Node != "n1" || got.Info.PoP != "IAD" || got.Info.DistributionID != "d" {
		t.Errorf("info = %+v", got.Info)
	}
	if got.Event != edge.ViewerRequest {
		t.Errorf("event %s", got.Event)
	}
	if len(lines) != 1 || lines[0].GetMessage() != "hello from vres" || lines[0].GetRequestId() != got.Info.RequestID || lines[0].GetFunction() != "vres" {
		t.Errorf("log lines = %v", lines)
	}
	// The full body still reaches the origin (POST is not cached).
	if o.hits.Load() != 1 {
		t.Fatalf("origin hits %d", o.hits.Load())
	}
	_ = http.StatusOK
}

// TestOriginRequestSwitchesOrigin: origin-request may change the origin
// (reference section 1).
func TestOriginRequestSwitchesOrigin(t *testing.T) {
	primary := startOrigin(t, "primary")
	other := startOrigin(t, "other")
	fr := newFakeRunner()
	fr.handlers["sw"] = func(inv sandbox.Invocation) sandbox.Result {
		if inv.Request.Origin == nil || inv.Request.Origin.ID != "o1" {
			return sandbox.Result{Outcome: sandbox.OutcomeExecutionError, Err: errors.New("origin not exposed")}
		}
		if strings.HasPrefix(inv.Request.URI, "/gen/other") {
			o, err := edge.NewCustomOrigin(other.URL())
			if err != nil {
				return sandbox.Result{Outcome: sandbox.OutcomeExecutionError, Err: err}
			}
			o.Custom.CustomHeaders = http.Header{"X-Custom": {"c"}}
			inv.Request.Origin = o
		}
		return cont(inv)
	}
	n := startNode(t, fr, nil)
	if err := n.Apply(context.Background(), snapshot(1, primary.URL(), "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{assoc(evOReq, "sw")}}), nil); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/gen/x": "primary", "/gen/other": "other"} {
		r := do(t, n, "GET", path, nil, "")
		if r.status != 200 || r.header.Get("X-Origin-Id") != want {
			t.Errorf("%s: %d from %q, want %q", path, r.status, r.header.Get("X-Origin-Id"), want)
		}
	}
	r := do(t, n, "GET", "/echo/other?cc=no-store", nil, "")
	if r.header.Get("X-Origin-Id") != "primary" {
		t.Fatalf("echo went to %q", r.header.Get("X-Origin-Id"))
	}
}
