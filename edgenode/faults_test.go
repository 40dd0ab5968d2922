package edgenode

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/edge"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

func TestHealthFailFault(t *testing.T) {
	o := newCountingOrigin(t, okHandler("max-age=60"))
	n := startNode(t, newFakeRunner(), nil)
	if err := n.Apply(context.Background(), snapshot(1, o.URL, "", &edgelabv1.Behavior{}), nil); err != nil {
		t.Fatal(err)
	}
	past := timestamppb.New(time.Now().Add(-time.Second))
	future := timestamppb.New(time.Now().Add(time.Hour))
	tests := []struct {
		name   string
		faults []*edgelabv1.Fault
		want   int
		fault  string // fault id named in the 503 body
	}{
		{"no faults", nil, 200, ""},
		{"health-fail", []*edgelabv1.Fault{{Id: "hf", Kind: "health-fail", Target: "node:n1"}}, 503, "hf"},
		{"healed", []*edgelabv1.Fault{}, 200, ""},
		{"region target", []*edgelabv1.Fault{{Id: "rf", Kind: "health-fail", Target: "region:us-east-1", Expires: future}}, 503, "rf"},
		{"expired", []*edgelabv1.Fault{{Id: "old", Kind: "health-fail", Target: "node:n1", Expires: past}}, 200, ""},
		{"first live of several", []*edgelabv1.Fault{
			{Id: "a", Kind: "health-fail", Target: "node:n1", Expires: past},
			{Id: "b", Kind: "health-fail", Target: "node:n1"}}, 503, "b"},
		{"other kinds ignored", []*edgelabv1.Fault{
			{Id: "p", Kind: "partition", Target: "node:n1"},
			{Id: "x", Kind: "from-the-future", Target: "node:n1"},
			nil}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n.ApplyFaults(tt.faults)
			r := do(t, n, "GET", HealthPath, nil, "")
			if r.status != tt.want {
				t.Fatalf("health = %d %q, want %d", r.status, r.body, tt.want)
			}
			var body struct {
				Node, Reason, Fault string
				Healthy             *bool
				Revision            int64
			}
			if err := json.Unmarshal([]byte(r.body), &body); err != nil {
				t.Fatalf("health body %q: %v", r.body, err)
			}
			if body.Node != "n1" || body.Revision != 1 {
				t.Fatalf("health body %q: want node n1 at revision 1", r.body)
			}
			if tt.want == 503 {
				if body.Fault != tt.fault || !strings.Contains(body.Reason, "health-fail") || body.Healthy == nil || *body.Healthy {
					t.Fatalf("503 body %q: want healthy false, fault %s and a reason", r.body, tt.fault)
				}
				if cc := r.header.Get("Cache-Control"); cc != "no-store" {
					t.Fatalf("503 Cache-Control %q, want no-store", cc)
				}
			}
			// Viewers reaching the node directly are served regardless.
			if v := do(t, n, "GET", "/page?"+t.Name(), nil, ""); v.status != 200 || v.body != "body:/page" {
				t.Fatalf("viewer request during %s: %d %q", tt.name, v.status, v.body)
			}
		})
	}
}

func TestFetchFaultTable(t *testing.T) {
	n := startNode(t, newFakeRunner(), nil)
	inv := func(fn string) sandbox.Invocation { return sandbox.Invocation{Function: fn, Version: 1} }
	past := timestamppb.New(time.Now().Add(-time.Second))
	lat := func(d time.Duration) *durationpb.Duration { return durationpb.New(d) }
	tests := []struct {
		name   string
		faults []*edgelabv1.Fault
		fn     string
		want   sandbox.FetchFault
		errHas string // want.Err is matched by substring
	}{
		{"none", nil, "auth", sandbox.FetchFault{}, ""},
		{"latency", []*edgelabv1.Fault{{Id: "l", Kind: "fetch-latency", Target: "function:auth", Latency: lat(time.Second)}}, "auth", sandbox.FetchFault{Delay: time.Second}, ""},
		{"other function untouched", []*edgelabv1.Fault{{Id: "l", Kind: "fetch-latency", Target: "function:auth", Latency: lat(time.Second)}}, "img", sandbox.FetchFault{}, ""},
		{"largest latency wins", []*edgelabv1.Fault{
			{Id: "a", Kind: "fetch-latency", Target: "function:auth", Latency: lat(time.Second)},
			{Id: "b", Kind: "fetch-latency", Target: "function:auth", Latency: lat(3 * time.Second)}}, "auth", sandbox.FetchFault{Delay: 3 * time.Second}, ""},
		{"errors fail every fetch", []*edgelabv1.Fault{{Id: "e", Kind: "fetch-errors", Target: "function:auth"}}, "auth", sandbox.FetchFault{}, "chaos fault e: fetch-errors on function:auth"},
		{"errors with status answer it", []*edgelabv1.Fault{{Id: "e", Kind: "fetch-errors", Target: "function:auth", Status: 504, Rate: 1}}, "auth", sandbox.FetchFault{Status: 504}, ""},
		{"latency and errors combine", []*edgelabv1.Fault{
			{Id: "e", Kind: "fetch-errors", Target: "function:auth", Status: 500},
			{Id: "l", Kind: "fetch-latency", Target: "function:auth", Latency: lat(time.Second)}}, "auth", sandbox.FetchFault{Delay: time.Second, Status: 500}, ""},
		{"expired ignored", []*edgelabv1.Fault{{Id: "e", Kind: "fetch-errors", Target: "function:auth", Expires: past}}, "auth", sandbox.FetchFault{}, ""},
		// Hostile or malformed faults.
		{"NaN rate means every invocation", []*edgelabv1.Fault{{Id: "e", Kind: "fetch-errors", Target: "function:auth", Rate: math.NaN(), Status: 503}}, "auth", sandbox.FetchFault{Status: 503}, ""},
		{"rate above 1 means every invocation", []*edgelabv1.Fault{{Id: "e", Kind: "fetch-errors", Target: "function:auth", Rate: 7, Status: 503}}, "auth", sandbox.FetchFault{Status: 503}, ""},
		{"out-of-range status fails instead", []*edgelabv1.Fault{{Id: "e", Kind: "fetch-errors", Target: "function:auth", Status: 9999}}, "auth", sandbox.FetchFault{}, "fetch-errors"},
		{"negative latency ignored", []*edgelabv1.Fault{{Id: "l", Kind: "fetch-latency", Target: "function:auth", Latency: lat(-time.Second)}}, "auth", sandbox.FetchFault{}, ""},
		{"no function target ignored", []*edgelabv1.Fault{
			{Id: "a", Kind: "fetch-errors", Target: "node:auth"},
			{Id: "b", Kind: "fetch-errors", Target: "function:"},
			{Id: "c", Kind: "fetch-errors", Target: "auth"}}, "auth", sandbox.FetchFault{}, ""},
		{"empty function name never matches", []*edgelabv1.Fault{{Id: "b", Kind: "fetch-errors", Target: "function:"}}, "", sandbox.FetchFault{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n.ApplyFaults(tt.faults)
			got := n.FetchFault(inv(tt.fn))
			if tt.errHas != "" {
				if !strings.Contains(got.Err, tt.errHas) {
					t.Fatalf("Err = %q, want it to mention %q", got.Err, tt.errHas)
				}
				got.Err = ""
			}
			if got != tt.want {
				t.Fatalf("FetchFault = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFetchErrorsRate(t *testing.T) {
	n := startNode(t, newFakeRunner(), nil)
	n.ApplyFaults([]*edgelabv1.Fault{{Id: "e", Kind: "fetch-errors", Target: "function:auth", Rate: 0.5, Status: 500}})
	hits := 0
	const calls = 2000
	for range calls {
		if n.FetchFault(sandbox.Invocation{Function: "auth"}).Status == 500 {
			hits++
		}
	}
	// Binomial(2000, 0.5): 800..1200 is beyond 8 standard deviations.
	if hits < 800 || hits > 1200 {
		t.Fatalf("rate 0.5 hit %d of %d invocations", hits, calls)
	}
}

// fetcherSrc calls edge.Fetch on the target and turns a failure into a 502
// generated response.
const fetcherSrc = `package fetcher

import (
	"context"
	"strconv"

	"github.com/edgelab/edgelab/edge"
)

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	r, err := edge.Fetch(ctx, "GET", %q, nil, nil)
	if err != nil {
		return &edge.Response{Status: 502, Body: []byte("fetch failed: " + err.Error())}, nil
	}
	return &edge.Response{Status: 200, Body: []byte("fetched " + strconv.Itoa(r.Status) + " " + string(r.Body))}, nil
}
`

func TestFetchFaultsThroughSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sandbox workers")
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("upstream")) }))
	t.Cleanup(up.Close)
	o := newCountingOrigin(t, okHandler(""))
	n := startNode(t, nil, func(c *Config) { c.Profile = shortProfile() })
	snap := snapshot(1, o.URL, "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{assoc(evVR, "fetcher")}})
	// up is on loopback and not an origin: the egress rules must name it.
	snap.Distributions[0].Egress = &edgelabv1.EgressPolicy{Allow: []string{strings.TrimPrefix(up.URL, "http://")}}
	snap.Functions = []*edgelabv1.FunctionVersion{fnVersion("fetcher", fmt.Sprintf(fetcherSrc, up.URL))}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.Apply(ctx, snap, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		faults   []*edgelabv1.Fault
		status   int
		body     string // substring
		minDelay time.Duration
	}{
		{"normal", nil, 200, "fetched 200 upstream", 0},
		{"fetch-errors", []*edgelabv1.Fault{{Id: "fe", Kind: "fetch-errors", Target: "function:fetcher"}}, 502, "chaos fault fe: fetch-errors on function:fetcher", 0},
		{"fetch-errors with status", []*edgelabv1.Fault{{Id: "fs", Kind: "fetch-errors", Target: "function:fetcher", Status: 503}}, 200, "fetched 503 ", 0},
		{"another function's fault", []*edgelabv1.Fault{{Id: "fo", Kind: "fetch-errors", Target: "function:other"}}, 200, "fetched 200 upstream", 0},
		{"fetch-latency", []*edgelabv1.Fault{{Id: "fl", Kind: "fetch-latency", Target: "function:fetcher", Latency: durationpb.New(150 * time.Millisecond)}}, 200, "fetched 200 upstream", 150 * time.Millisecond},
		{"healed", []*edgelabv1.Fault{}, 200, "fetched 200 upstream", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n.ApplyFaults(tt.faults)
			start := time.Now()
			r := do(t, n, "GET", "/x?"+t.Name(), nil, "")
			took := time.Since(start)
			if r.status != tt.status || !strings.Contains(r.body, tt.body) {
				t.Fatalf("got %d %q, want %d with %q", r.status, r.body, tt.status, tt.body)
			}
			// A lower bound only: the fault holds every fetch at least this long.
			if took < tt.minDelay {
				t.Fatalf("request took %v with a %v fetch latency", took, tt.minDelay)
			}
		})
	}
}

// TestFetchEgressThroughNode: a function on the node reaches its
// distribution's origin (on loopback, as in the lab) but not another
// loopback port of the host, such as the embedded etcd's.
func TestFetchEgressThroughNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sandbox workers")
	}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("secret")) }))
	t.Cleanup(other.Close)
	o := newCountingOrigin(t, okHandler(""))
	n := startNode(t, nil, func(c *Config) { c.Profile = shortProfile() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i, tc := range []struct {
		target string
		status int
		body   string
	}{
		{o.URL + "/objects/8", 200, "fetched 200"},
		{other.URL + "/v3/kv/range", 502, edge.ErrEgressDenied.Error()},
	} {
		snap := snapshot(int64(i+1), o.URL, "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{assoc(evVR, "fetcher")}})
		fv := fnVersion("fetcher", fmt.Sprintf(fetcherSrc, tc.target))
		fv.Version = int64(i + 1)
		snap.Functions = []*edgelabv1.FunctionVersion{fv}
		snap.Distributions[0].Behaviors[0].Functions[0].Version = fv.Version
		if err := n.Apply(ctx, snap, nil); err != nil {
			t.Fatal(err)
		}
		if r := do(t, n, "GET", fmt.Sprintf("/x?%d", i), nil, ""); r.status != tc.status || !strings.Contains(r.body, tc.body) {
			t.Fatalf("fetch %s: got %d %q, want %d with %q", tc.target, r.status, r.body, tc.status, tc.body)
		}
	}
}
