package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
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

// TestWorkerStartsWithoutNamespacesWhereRefused: where the kernel refuses
// the namespaces (here: CLONE_FS, which clone(2) refuses beside
// CLONE_NEWUSER with EINVAL), the worker starts anyway, sharing the node's
// network; the refusal is logged once, reported, and not tried again.
func TestWorkerStartsWithoutNamespacesWhereRefused(t *testing.T) {
	var logs bytes.Buffer
	n := &networkIsolation{logger: slog.New(slog.NewTextHandler(&logs, nil))}
	starts := 0
	newCmd := func() *exec.Cmd {
		starts++
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_FS}
		return cmd
	}
	for range 2 {
		cmd, err := startWorkerCmd(newCmd, n)
		if err != nil {
			t.Fatalf("start with the namespaces refused: %v", err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if starts != 3 {
		t.Errorf("%d starts for two workers, want 3 (the refused try, then once each)", starts)
	}
	if ok, why := n.isolated(); ok || why == nil || !errors.Is(why, syscall.EINVAL) {
		t.Errorf("isolated() = %v, %v; want false and the refusal (EINVAL)", ok, why)
	}
	if c := strings.Count(logs.String(), "share the node's network"); c != 1 {
		t.Errorf("refusal logged %d times, want once: %s", c, logs.String())
	}
}
