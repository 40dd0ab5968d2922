package sandbox

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/edgelab/edgelab/edge"
)

func baseRequest() *edge.Request {
	return &edge.Request{
		Method: "GET", URI: "/index.html", QueryString: "a=1", ClientIP: "203.0.113.1",
		Header: http.Header{"Host": {"d.test"}, "Accept-Encoding": {"gzip"}, "Via": {"1.1 x"}},
	}
}

func baseResponse() *edge.Response {
	return &edge.Response{Status: 200, StatusDescription: "OK", Header: http.Header{"Content-Type": {"text/html"}, "Content-Length": {"10"}}}
}

func TestValidateResult(t *testing.T) {
	limits := DefaultProfile().Viewer
	tests := []struct {
		name    string
		event   edge.EventType
		limits  *Limits
		outcome Outcome
		mutate  func(req *edge.Request, resp *edge.Response) (*edge.Request, *edge.Response)
		wantErr string // "" = valid
	}{
		{"vr continue unchanged", edge.ViewerRequest, nil, OutcomeContinue, nil, ""},
		{"vr uri and query changed", edge.ViewerRequest, nil, OutcomeContinue, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			r.URI, r.QueryString = "/other", "b=2"
			r.Header.Set("X-Custom", "1")
			return r, nil
		}, ""},
		{"vr uri without slash", edge.ViewerRequest, nil, OutcomeContinue, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			r.URI = "index.html"
			return r, nil
		}, `viewer-request: uri "index.html" must start with "/"`},
		{"vr uri too long", edge.ViewerRequest, nil, OutcomeContinue, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			r.URI = "/" + strings.Repeat("a", 8192)
			return r, nil
		}, "viewer-request: uri and query string are 8196 characters, over the 8192 limit"},
		{"vr host changed", edge.ViewerRequest, nil, OutcomeContinue, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			r.Header.Set("Host", "evil.test")
			return r, nil
		}, "viewer-request: read-only header Host was changed"},
		{"vr host changed via lowercase key", edge.ViewerRequest, nil, OutcomeContinue, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			r.Header["host"] = []string{"evil.test"}
			return r, nil
		}, "viewer-request: read-only header Host was changed"},
		{"vr accept-encoding may change", edge.ViewerRequest, nil, OutcomeContinue, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			r.Header.Del("Accept-Encoding")
			return r, nil
		}, ""},
		{"or accept-encoding read-only", edge.OriginRequest, nil, OutcomeContinue, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			r.Header.Del("Accept-Encoding")
			return r, nil
		}, "origin-request: read-only header Accept-Encoding was changed"},
		{"vr disallowed header added", edge.ViewerRequest, nil, OutcomeContinue, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			r.Header.Set("X-Amz-Cf-Id", "x")
			return r, nil
		}, "viewer-request: disallowed header X-Amz-Cf-Id was added or changed"},
		{"vr edgelab header added", edge.ViewerRequest, nil, OutcomeContinue, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			r.Header.Set("x-edgelab-node", "x")
			return r, nil
		}, "viewer-request: disallowed header X-Edgelab-Node was added or changed"},
		{"vr method changed", edge.ViewerRequest, nil, OutcomeContinue, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			r.Method = "POST"
			return r, nil
		}, "viewer-request: the method is read-only (changed from GET to POST)"},
		{"vr body replaced without include-body", edge.ViewerRequest, nil, OutcomeContinue, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			r.Body = &edge.Body{Data: []byte("x"), Replace: true}
			return r, nil
		}, "viewer-request: the body can only be replaced when the association includes the body"},
		{"vr generated ok", edge.ViewerRequest, nil, OutcomeGenerated, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			return r, edge.NewResponse(403, "Forbidden")
		}, ""},
		{"vr generated ignores request changes", edge.ViewerRequest, nil, OutcomeGenerated, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			r.Header.Set("Host", "x")
			return r, edge.NewResponse(403, "Forbidden")
		}, ""},
		{"generated status 100", edge.ViewerRequest, nil, OutcomeGenerated, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			return r, edge.NewResponse(100, "")
		}, "viewer-request: generated response status 100 is outside 200-599"},
		{"generated status 0", edge.OriginRequest, nil, OutcomeGenerated, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			return r, &edge.Response{}
		}, "origin-request: generated response status 0 is outside 200-599"},
		{"generated 204 with body", edge.ViewerRequest, nil, OutcomeGenerated, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			return r, &edge.Response{Status: 204, Body: []byte("x")}
		}, "viewer-request: a 204 response cannot have a body"},
		{"generated disallowed header", edge.ViewerRequest, nil, OutcomeGenerated, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			return r, edge.NewResponse(200, "x").SetHeader("X-Cache", "Hit")
		}, "viewer-request: generated response sets disallowed header X-Cache"},
		{"generated too big", edge.ViewerRequest, nil, OutcomeGenerated, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			return r, &edge.Response{Status: 200, Body: make([]byte, 40<<10)}
		}, "viewer-request: generated response is 40977 bytes (headers + body), over the 40960 byte limit"},
		{"generated big ok at origin limits", edge.OriginRequest, &Limits{MaxGeneratedBytes: 1 << 20}, OutcomeGenerated, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			return r, &edge.Response{Status: 200, Body: make([]byte, 40<<10)}
		}, ""},
		{"or body replace over limit", edge.OriginRequest, &Limits{MaxBodyBytes: 4}, OutcomeContinue, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			r.Body = &edge.Body{Data: []byte("12345"), Replace: true}
			return r, nil
		}, "origin-request: replacement body is 5 bytes, over the 4 byte limit"},
		{"or body replace ok", edge.OriginRequest, nil, OutcomeContinue, func(r *edge.Request, _ *edge.Response) (*edge.Request, *edge.Response) {
			r.Body.Data, r.Body.Replace = []byte("new"), true
			return r, nil
		}, ""},
		{"oresp status change ok", edge.OriginResponse, nil, OutcomeContinue, func(r *edge.Request, w *edge.Response) (*edge.Request, *edge.Response) {
			w.Status = 302
			w.Header.Set("Location", "/")
			return r, w
		}, ""},
		{"oresp status 700", edge.OriginResponse, nil, OutcomeContinue, func(r *edge.Request, w *edge.Response) (*edge.Request, *edge.Response) {
			w.Status = 700
			return r, w
		}, "origin-response: status 700 is outside 200-599"},
		{"oresp 204 body", edge.OriginResponse, nil, OutcomeContinue, func(r *edge.Request, w *edge.Response) (*edge.Request, *edge.Response) {
			w.Status, w.Body = 204, []byte("x")
			return r, w
		}, "origin-response: a 204 response cannot have a body"},
		{"oresp via read-only", edge.OriginResponse, nil, OutcomeContinue, func(r *edge.Request, w *edge.Response) (*edge.Request, *edge.Response) {
			w.Header.Set("Via", "me")
			return r, w
		}, "origin-response: read-only header Via was changed"},
		{"oresp query changed", edge.OriginResponse, nil, OutcomeContinue, func(r *edge.Request, w *edge.Response) (*edge.Request, *edge.Response) {
			r.QueryString = "z=1"
			return r, w
		}, "origin-response: the query string can only be changed in request events"},
		{"oresp body replacement too big", edge.OriginResponse, &Limits{MaxGeneratedBytes: 100}, OutcomeContinue, func(r *edge.Request, w *edge.Response) (*edge.Request, *edge.Response) {
			w.Body = make([]byte, 100)
			return r, w
		}, "origin-response: response with replaced body is 164 bytes (headers + body), over the 100 byte limit"},
		{"vresp status change", edge.ViewerResponse, nil, OutcomeContinue, func(r *edge.Request, w *edge.Response) (*edge.Request, *edge.Response) {
			w.Status = 404
			return r, w
		}, "viewer-response: viewer-response cannot change the status (from 200 to 404)"},
		{"vresp content-length read-only", edge.ViewerResponse, nil, OutcomeContinue, func(r *edge.Request, w *edge.Response) (*edge.Request, *edge.Response) {
			w.Header.Del("Content-Length")
			return r, w
		}, "viewer-response: read-only header Content-Length was changed"},
		{"vresp security headers ok", edge.ViewerResponse, nil, OutcomeContinue, func(r *edge.Request, w *edge.Response) (*edge.Request, *edge.Response) {
			w.Header.Set("Strict-Transport-Security", "max-age=63072000")
			return r, w
		}, ""},
		{"error outcome untouched", edge.ViewerResponse, nil, OutcomeExecutionError, func(r *edge.Request, w *edge.Response) (*edge.Request, *edge.Response) {
			w.Status = 999
			return r, w
		}, "keep"},
	}
	// Cases whose association includes the body.
	includeBody := map[string]bool{"or body replace over limit": true, "or body replace ok": true}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := Invocation{Event: tt.event, Request: baseRequest()}
			if includeBody[tt.name] {
				inv.Request.Body = &edge.Body{Data: []byte("a=1")}
			}
			if !tt.event.IsRequest() {
				inv.Response = baseResponse()
			}
			res := &Result{Outcome: tt.outcome, Request: inv.Request.Clone(), Response: inv.Response.Clone()}
			if tt.mutate != nil {
				res.Request, res.Response = tt.mutate(res.Request, res.Response)
			}
			l := limits
			if tt.limits != nil {
				l = *tt.limits
			}
			ValidateResult(inv, l, res)
			switch tt.wantErr {
			case "":
				if res.Outcome != tt.outcome || res.Err != nil {
					t.Fatalf("outcome = %s, %v; want %s", res.Outcome, res.Err, tt.outcome)
				}
			case "keep":
				if res.Outcome != tt.outcome {
					t.Fatalf("outcome = %s, want %s", res.Outcome, tt.outcome)
				}
			default:
				if res.Outcome != OutcomeValidationError {
					t.Fatalf("outcome = %s, want %s", res.Outcome, OutcomeValidationError)
				}
				var re *RuleError
				if !errors.As(res.Err, &re) || re.Event != tt.event {
					t.Fatalf("err = %#v, want *RuleError for %s", res.Err, tt.event)
				}
				if res.Err.Error() != tt.wantErr {
					t.Errorf("err:\n got %s\nwant %s", res.Err, tt.wantErr)
				}
			}
		})
	}
}

func TestHeaderLists(t *testing.T) {
	tests := []struct {
		name       string
		disallowed bool
	}{
		{"connection", true}, {"X-Amzn-Trace-Id", true}, {"x-accel-buffering", true},
		{"X-Edgelab-Pop", true}, {"x-real-ip", true}, {"X-Forwarded-Proto", true},
		{"X-Forwarded-For", false}, {"Authorization", false}, {"Host", false}, {"X-Edge", false},
	}
	for _, tt := range tests {
		if got := IsDisallowedHeader(tt.name); got != tt.disallowed {
			t.Errorf("IsDisallowedHeader(%q) = %v", tt.name, got)
		}
	}
	if !IsReadOnlyHeader(edge.ViewerRequest, "host") || IsReadOnlyHeader(edge.ViewerResponse, "Host") || !IsReadOnlyHeader(edge.ViewerResponse, "warning") {
		t.Error("IsReadOnlyHeader")
	}
	if len(ReadOnlyHeaders(edge.OriginRequest)) != 9 || len(DisallowedHeaders()) != 16 {
		t.Errorf("lists: %v %v", ReadOnlyHeaders(edge.OriginRequest), DisallowedHeaders())
	}
	h := http.Header{"Connection": {"keep-alive"}, "x-amz-cf-id": {"1"}, "accept": {"a"}, "Accept": {"b"}, "X-Edgelab-Node": {"n"}}
	got := FilterRequestHeaders(edge.ViewerRequest, h)
	if len(got) != 1 || len(got["Accept"]) != 2 {
		t.Errorf("FilterRequestHeaders = %v", got)
	}
	if len(h) != 5 {
		t.Error("FilterRequestHeaders modified its input")
	}
	if got := FilterResponseHeaders(edge.OriginResponse, http.Header{"Upgrade": {"h2"}, "Etag": {"x"}}); len(got) != 1 {
		t.Errorf("FilterResponseHeaders = %v", got)
	}
}
