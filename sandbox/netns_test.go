package sandbox

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/edgelab/edgelab/egress"
)

// TestWorkerHasNoNetworkOfItsOwn: a worker runs in a network namespace
// other than the node's, and a handler's fetch still reaches an allowed
// server on the node's loopback, which only the node can reach: the node
// made the call.
func TestWorkerHasNoNetworkOfItsOwn(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "via the node") }))
	t.Cleanup(srv.Close)
	rule, err := egress.ParseRule(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	m := newTestManager(t, func(c *ManagerConfig) { c.IsolateNetwork = true })
	if err := m.Load(t.Context(), code("fetcher", fetcherSrc)); err != nil {
		t.Fatal(err)
	}
	inv := viewerReq("fetcher", "/")
	inv.Request.Header.Set("X-Target", srv.URL+"/x")
	inv.Egress = &egress.Policy{Allow: []egress.Rule{rule}}
	res := mustInvoke(t, m, inv)
	if res.Response == nil || string(res.Response.Body) != "via the node" {
		t.Fatalf("fetch: %+v (%v)", res.Response, res.Err)
	}
	isolated, why := m.WorkerNetworkIsolated()
	if !isolated {
		t.Skipf("this platform refuses new network namespaces: %v", why)
	}
	host, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	pids := m.WorkerPIDs()
	if len(pids) == 0 {
		t.Fatal("no worker running")
	}
	for _, pid := range pids {
		ns, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/net")
		if err != nil {
			t.Fatal(err)
		}
		if ns == host {
			t.Errorf("worker %d shares the node's network namespace %s", pid, ns)
		}
	}
}
