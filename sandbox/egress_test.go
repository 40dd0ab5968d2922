package sandbox

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/egress"
)

// fetcherSrc fetches the URL in X-Target and answers what happened:
// "denied" when edge.ErrEgressDenied is in the error chain, else the
// status and body, or "error: ...".
const fetcherSrc = hdr + `
import "errors"

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	r, err := edge.Fetch(ctx, "GET", req.Header.Get("X-Target"), nil, nil)
	switch {
	case errors.Is(err, edge.ErrEgressDenied):
		return edge.NewResponse(200, "denied"), nil
	case err != nil:
		return edge.NewResponse(200, "error: "+err.Error()), nil
	}
	return edge.NewResponse(200, string(r.Body)), nil
}
`

// TestFetchEgressPolicy: a function reaches its distribution's origin,
// and nothing else of the host: not the etcd client port, not a
// control-plane port, not the metadata address, not a name that resolves
// to loopback, not a redirect to loopback. Each refusal is logged in the
// function's log lines.
func TestFetchEgressPolicy(t *testing.T) {
	serve := func(body string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) }))
		t.Cleanup(s.Close)
		return s
	}
	etcd := serve(`{"kvs":"every function's source"}`) // stands for the embedded etcd's client URL
	controlPlane := serve("metrics")
	var originURL string
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, etcd.URL+"/v3/kv/range", http.StatusFound)
			return
		}
		fmt.Fprint(w, "from the origin")
	}))
	t.Cleanup(origin.Close)
	originURL = origin.URL
	rule, err := egress.ParseRule(strings.TrimPrefix(originURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	policy := &egress.Policy{Allow: []egress.Rule{rule}}
	_, etcdPort, _ := net.SplitHostPort(strings.TrimPrefix(etcd.URL, "http://"))

	m := newTestManager(t, nil)
	if err := m.Load(t.Context(), code("fetcher", fetcherSrc)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, target, want string }{
		{"allowed origin", originURL + "/x", "from the origin"},
		{"etcd client port", etcd.URL + "/v3/kv/range", "denied"},
		{"control-plane port", controlPlane.URL + "/metrics", "denied"},
		{"metadata address", "http://169.254.169.254/latest/meta-data/", "denied"},
		{"name resolving to loopback", "http://localhost:" + etcdPort + "/v3/kv/range", "denied"},
		{"redirect to loopback", originURL + "/redirect", "denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := viewerReq("fetcher", "/")
			inv.Request.Header.Set("X-Target", tc.target)
			inv.Egress = policy
			res := mustInvoke(t, m, inv)
			if res.Outcome != OutcomeGenerated || res.Response == nil {
				t.Fatalf("outcome %s (%v)", res.Outcome, res.Err)
			}
			if got := string(res.Response.Body); got != tc.want {
				t.Fatalf("fetch %s: %q, want %q", tc.target, got, tc.want)
			}
			logged := false
			for _, l := range res.Logs {
				logged = logged || strings.Contains(l.Message, edge.ErrEgressDenied.Error())
			}
			if logged != (tc.want == "denied") {
				t.Errorf("refusal logged = %v, want %v (logs %v)", logged, tc.want == "denied", res.Logs)
			}
		})
	}
	// Without a policy only public addresses are reachable: the origin
	// on loopback is refused too.
	inv := viewerReq("fetcher", "/")
	inv.Request.Header.Set("X-Target", originURL+"/x")
	if res := mustInvoke(t, m, inv); res.Response == nil || string(res.Response.Body) != "denied" {
		t.Fatalf("no policy: %+v", res)
	}
}
