package sandbox

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/egress"
)

func TestFetchLatencyEncoding(t *testing.T) {
	l := FetchLatency{Default: 200 * time.Millisecond, ByHost: map[string]time.Duration{"auth.test": 2 * time.Millisecond, "api.test:8443": 90 * time.Millisecond}}
	if got := parseFetchLatency(l.encode()); !reflect.DeepEqual(got, l) {
		t.Errorf("round trip %+v, want %+v", got, l)
	}
	if (FetchLatency{}).encode() != "" || (FetchLatency{ByHost: map[string]time.Duration{"h": 0}}).encode() != "" {
		t.Error("a FetchLatency adding nothing is encoded")
	}
	if got := parseFetchLatency("junk;=1s;h=x;ok=3ms"); got.Default != 0 || !reflect.DeepEqual(got.ByHost, map[string]time.Duration{"ok": 3 * time.Millisecond}) {
		t.Errorf("malformed parts not ignored: %+v", got)
	}
	for host, want := range map[string]time.Duration{"auth.test": 2 * time.Millisecond, "auth.test:443": 2 * time.Millisecond,
		"api.test:8443": 90 * time.Millisecond, "api.test": 200 * time.Millisecond, "other": 200 * time.Millisecond} {
		if got := l.Delay(host); got != want {
			t.Errorf("Delay(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestFetchLatencyApplied: the delay a fetch waits is its target's (by
// host:port, by host, else the default), in a worker and in process; a
// delay past the invocation deadline fails the invocation.
func TestFetchLatencyApplied(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("upstream")) }))
	defer srv.Close()
	hostport := strings.TrimPrefix(srv.URL, "http://")
	rule, err := egress.ParseRule(hostport)
	if err != nil {
		t.Fatal(err)
	}
	long := 10 * time.Second // past the 300ms viewer timeout
	tests := []struct {
		name string
		lat  FetchLatency
		ok   bool
	}{
		{"none", FetchLatency{}, true},
		{"target delayed", FetchLatency{ByHost: map[string]time.Duration{hostport: long}}, false},
		{"other host delayed", FetchLatency{ByHost: map[string]time.Duration{"other.test": long}}, true},
		{"default delayed", FetchLatency{Default: long}, false},
		{"host without port", FetchLatency{Default: long, ByHost: map[string]time.Duration{"127.0.0.1": time.Millisecond}}, true},
	}
	runners := map[string]Runner{"worker": newTestManager(t, nil), "inprocess": NewInProcess(InProcessConfig{Profile: testProfile()})}
	for rname, r := range runners {
		if err := r.Load(context.Background(), code("fetch", fetchSrc)); err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			t.Run(rname+"/"+tt.name, func(t *testing.T) {
				inv := viewerReq("fetch", "/")
				inv.Request.Header.Set("X-Target", srv.URL)
				inv.Egress = &egress.Policy{Allow: []egress.Rule{rule}}
				inv.FetchLatency = tt.lat
				res, err := r.Invoke(context.Background(), inv)
				if err != nil {
					t.Fatal(err)
				}
				if !tt.ok {
					if res.Outcome != OutcomeExecutionError || !(errors.Is(res.Err, ErrHandler) || errors.Is(res.Err, ErrTimeout)) {
						t.Fatalf("outcome %s (%v), want the delayed fetch to fail the invocation", res.Outcome, res.Err)
					}
					return
				}
				if res.Outcome != OutcomeContinue || res.Request.Header.Get("X-Fetched") != "200 upstream" {
					t.Fatalf("outcome %s (%v), X-Fetched %q", res.Outcome, res.Err, res.Request.Header.Get("X-Fetched"))
				}
			})
		}
	}
}
