package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgelab/edgelab/edge"
)

// testProfile uses short timeouts so hostile handlers fail fast.
func testProfile() Profile {
	p := DefaultProfile()
	p.Viewer.Timeout = 300 * time.Millisecond
	p.Origin.Timeout = 300 * time.Millisecond
	return p
}

func newTestManager(t *testing.T, mod func(*ManagerConfig)) *Manager {
	t.Helper()
	cfg := ManagerConfig{Profile: testProfile(), WorkerCommand: []string{os.Args[0]}}
	if mod != nil {
		mod(&cfg)
	}
	m, err := NewManager(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pids := m.WorkerPIDs()
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		for _, pid := range pids {
			if processAlive(pid) {
				t.Errorf("worker %d still alive after Close", pid)
			}
		}
	})
	return m
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false
	}
	return !strings.Contains(string(b), "State:\tZ")
}

// processStopped reports whether pid is stopped by a signal.
func processStopped(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	return err == nil && strings.Contains(string(b), "State:\tT")
}

func code(name string, src string) Code {
	return Code{Name: name, Version: 1, Files: map[string][]byte{"handler.go": []byte(src)}, SHA256: edge.SHA256Hex([]byte(src))}
}

const hdr = `package fn

import (
	"context"
	"github.com/edgelab/edgelab/edge"
)
`

// hostileSrc is one function with a behaviour per URI.
const hostileSrc = hdr + `
import (
	"errors"
	"strings"
	"time"
)

var keep [][]byte

func recurse(n int) int { return recurse(n+1) + 1 }

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	edge.Log(ctx, "uri ", req.URI, " rid ", edge.InfoFrom(ctx).RequestID)
	switch req.URI {
	case "/loop":
		for {
		}
	case "/recurse":
		recurse(0)
	case "/alloc":
		keep = append(keep, []byte(strings.Repeat("x", 1<<30)))
	case "/sleep":
		time.Sleep(10 * time.Second) // compiled code: cancelling the interpreter cannot stop it
	case "/panic":
		panic("boom")
	case "/error":
		return nil, errors.New("bad thing")
	case "/bad-status":
		return &edge.Response{Status: 700}, nil
	case "/huge-result":
		return edge.NewResponse(200, strings.Repeat("x", 70<<20)), nil
	case "/generate":
		r := edge.NewResponse(200, "hello")
		return r, nil
	}
	req.Header.Set("X-Added", "yes")
	return nil, nil
}

func ViewerResponse(ctx context.Context, req *edge.Request, resp *edge.Response) error {
	resp.Header.Set("X-Resp", req.URI)
	return nil
}
`

func viewerReq(fn, uri string) Invocation {
	return Invocation{Function: fn, Version: 1, Event: edge.ViewerRequest,
		Request: &edge.Request{Method: "GET", URI: uri, Header: http.Header{"Accept": {"*/*"}}},
		Info:    edge.Info{RequestID: "req-" + uri}}
}

func mustInvoke(t *testing.T, m *Manager, inv Invocation) Result {
	t.Helper()
	res, err := m.Invoke(context.Background(), inv)
	if err != nil {
		t.Fatalf("Invoke %s: %v", inv.Request.URI, err)
	}
	return res
}

func TestManagerInvoke(t *testing.T) {
	m := newTestManager(t, nil)
	if err := m.Load(context.Background(), code("hostile", hostileSrc)); err != nil {
		t.Fatal(err)
	}
	eps, err := m.EntryPoints("hostile", 1)
	if err != nil || len(eps) != 2 || eps[0] != edge.ViewerRequest || eps[1] != edge.ViewerResponse {
		t.Fatalf("entry points = %v, %v", eps, err)
	}

	res := mustInvoke(t, m, viewerReq("hostile", "/"))
	if res.Outcome != OutcomeContinue || res.Request.Header.Get("X-Added") != "yes" || res.Request.Header.Get("Accept") != "*/*" {
		t.Fatalf("continue: %+v", res)
	}
	if !res.Cold {
		t.Errorf("first invocation not cold")
	}
	if len(res.Logs) != 1 || res.Logs[0].Message != "uri / rid req-/" {
		t.Errorf("logs = %+v", res.Logs)
	}
	res = mustInvoke(t, m, viewerReq("hostile", "/"))
	if res.Cold {
		t.Errorf("second invocation cold")
	}

	res = mustInvoke(t, m, viewerReq("hostile", "/generate"))
	if res.Outcome != OutcomeGenerated || res.Response == nil || res.Response.Status != 200 || string(res.Response.Body) != "hello" {
		t.Fatalf("generated: %+v", res)
	}

	// Result rules apply (sandbox/rules.go): status 700 is a validation error.
	res = mustInvoke(t, m, viewerReq("hostile", "/bad-status"))
	if res.Outcome != OutcomeValidationError {
		t.Fatalf("bad status: %+v", res)
	}
	var ruleErr *RuleError
	if !errors.As(res.Err, &ruleErr) {
		t.Errorf("validation error %v is not a *RuleError", res.Err)
	}

	inv := Invocation{Function: "hostile", Version: 1, Event: edge.ViewerResponse,
		Request:  &edge.Request{Method: "GET", URI: "/r", Header: http.Header{}},
		Response: &edge.Response{Status: 200, Header: http.Header{"Content-Type": {"text/plain"}}}}
	res = mustInvoke(t, m, inv)
	if res.Outcome != OutcomeContinue || res.Response.Header.Get("X-Resp") != "/r" || res.Response.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("response trigger: %+v", res)
	}
	if inv.Response.Header.Get("X-Resp") != "" {
		t.Errorf("caller's response was mutated")
	}
}

// workerPID returns the pid of a loaded function's live worker, or 0.
func workerPID(m *Manager, name string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.fns[fnKey{name, 1}]
	if f == nil {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.w == nil || !f.w.p.alive() {
		return 0
	}
	return f.w.p.pid()
}

func TestManagerHostile(t *testing.T) {
	m := newTestManager(t, func(c *ManagerConfig) {
		c.MemoryPollInterval = 5 * time.Millisecond
		c.Profile.Viewer.Timeout = 10 * time.Second
	})
	// "fast" times out after 300ms; "slow" has the profile's 10s, so that
	// recursion and allocation hit their limits first even under -race.
	fast := code("fast", hostileSrc)
	fast.Timeout = 300 * time.Millisecond
	for _, c := range []Code{fast, code("slow", hostileSrc)} {
		if err := m.Load(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		fn, uri string
		want    []error // any of
		// crashes: the worker process is replaced.
		crashes bool
	}{
		{"fast", "/loop", []error{ErrTimeout}, false},
		// A timed-out call that does not unwind gets its worker recycled.
		{"fast", "/sleep", []error{ErrTimeout}, true},
		{"fast", "/panic", []error{ErrPanic}, false},
		{"fast", "/error", []error{ErrHandler}, false},
		// Runaway recursion grows the stack and yaegi's heap frames: the
		// stack limit or the memory watchdog stops it, whichever comes
		// first (the race detector's shadow memory favours the latter).
		{"slow", "/recurse", []error{ErrWorkerCrashed, ErrMemoryLimit}, true},
		{"slow", "/alloc", []error{ErrMemoryLimit}, true},
	}
	for _, tt := range tests {
		t.Run(tt.fn+tt.uri, func(t *testing.T) {
			before := workerPID(m, tt.fn)
			res := mustInvoke(t, m, viewerReq(tt.fn, tt.uri))
			matched := false
			for _, w := range tt.want {
				matched = matched || errors.Is(res.Err, w)
			}
			if res.Outcome != OutcomeExecutionError || !matched {
				t.Fatalf("got %s %v, want %s wrapping %v", res.Outcome, res.Err, OutcomeExecutionError, tt.want)
			}
			t.Logf("%s: %v", tt.uri, res.Err)
			if tt.uri == "/panic" && !strings.Contains(res.Err.Error(), "(at handler.go:") {
				t.Errorf("panic error %q does not name the position", res.Err)
			}
			// The function keeps serving right after.
			res = mustInvoke(t, m, viewerReq(tt.fn, "/"))
			if res.Outcome != OutcomeContinue || res.Request.Header.Get("X-Added") != "yes" {
				t.Fatalf("after %s: %+v", tt.uri, res)
			}
			after := workerPID(m, tt.fn)
			if restarted := before != after; restarted != tt.crashes {
				t.Errorf("worker restarted = %v, want %v (pid %d -> %d)", restarted, tt.crashes, before, after)
			}
			if tt.crashes && !res.Cold {
				t.Errorf("invocation on a restarted worker not cold")
			}
		})
	}
	if s := m.Stats(); s.Invocations[OutcomeExecutionError] != uint64(len(tests)) || s.WorkerDeaths != 2 {
		t.Errorf("stats = %+v", s)
	}
}

func TestManagerConcurrencyLimit(t *testing.T) {
	m := newTestManager(t, func(c *ManagerConfig) {
		c.MaxConcurrency = 2
		c.InterpretersPerWorker = 2
	})
	src := hdr + `
import "time"

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	time.Sleep(150 * time.Millisecond)
	return nil, nil
}
`
	if err := m.Load(context.Background(), code("slow", src)); err != nil {
		t.Fatal(err)
	}
	const n = 6
	var wg sync.WaitGroup
	results := make([]Result, n)
	for i := range n {
		wg.Go(func() {
			res, err := m.Invoke(context.Background(), viewerReq("slow", "/"+strconv.Itoa(i)))
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	count := map[Outcome]int{}
	for _, r := range results {
		count[r.Outcome]++
		if r.Outcome == OutcomeLimitExceeded && !errors.Is(r.Err, ErrConcurrency) {
			t.Errorf("limit error = %v", r.Err)
		}
	}
	if count[OutcomeLimitExceeded] == 0 || count[OutcomeContinue] == 0 || count[OutcomeContinue] > 2*3 {
		t.Fatalf("outcomes = %v", count)
	}
}

func TestManagerMisuse(t *testing.T) {
	m := newTestManager(t, nil)
	if _, err := m.Invoke(context.Background(), viewerReq("nope", "/")); !errors.Is(err, ErrNotLoaded) {
		t.Fatalf("not loaded: %v", err)
	}
	err := m.Load(context.Background(), code("bad", hdr+"\nfunc ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) { return undefinedThing, nil }\n"))
	if !errors.Is(err, ErrCompile) || !strings.Contains(err.Error(), "handler.go:") {
		t.Fatalf("compile error = %v", err)
	}
	err = m.Load(context.Background(), code("sig", hdr+"\nfunc ViewerRequest(req *edge.Request) error { return nil }\n"))
	if !errors.Is(err, ErrCompile) || !strings.Contains(err.Error(), "ViewerRequest") || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("signature error = %v", err)
	}
	if err := m.Load(context.Background(), code("ok", hostileSrc)); err != nil {
		t.Fatal(err)
	}
	inv := viewerReq("ok", "/")
	inv.Event = edge.OriginRequest
	res := mustInvoke(t, m, inv)
	if res.Outcome != OutcomeExecutionError {
		t.Fatalf("unexported event: %+v", res)
	}
	m.Unload("ok", 1)
	if _, err := m.Invoke(context.Background(), viewerReq("ok", "/")); !errors.Is(err, ErrNotLoaded) {
		t.Fatalf("after unload: %v", err)
	}
	if got := len(m.WorkerPIDs()); got != 0 {
		t.Fatalf("%d workers after unload", got)
	}
}

func TestManagerIdleReap(t *testing.T) {
	m := newTestManager(t, func(c *ManagerConfig) { c.IdleTimeout = 50 * time.Millisecond })
	if err := m.Load(context.Background(), code("idle", hostileSrc)); err != nil {
		t.Fatal(err)
	}
	pids := m.WorkerPIDs()
	if len(pids) != 1 {
		t.Fatalf("pids = %v", pids)
	}
	deadline := time.Now().Add(5 * time.Second)
	// Poll: the reaper forgets the worker, then stops the process.
	for len(m.WorkerPIDs()) != 0 || processAlive(pids[0]) {
		if time.Now().After(deadline) {
			t.Fatalf("idle worker %d not reaped", pids[0])
		}
		time.Sleep(5 * time.Millisecond)
	}
	res := mustInvoke(t, m, viewerReq("idle", "/"))
	if res.Outcome != OutcomeContinue || !res.Cold {
		t.Fatalf("after reap: %+v", res)
	}
}

func TestManagerClose(t *testing.T) {
	baseline := runtime.NumGoroutine()
	m := newTestManager(t, nil)
	for i := range 3 {
		if err := m.Load(context.Background(), code(fmt.Sprintf("f%d", i), hostileSrc)); err != nil {
			t.Fatal(err)
		}
	}
	pids := m.WorkerPIDs()
	if len(pids) != 3 {
		t.Fatalf("pids = %v", pids)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if processAlive(pid) {
			t.Errorf("worker %d alive after Close", pid)
		}
	}
	// Every goroutine of the manager and its workers is gone.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before", runtime.NumGoroutine(), baseline)
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := m.Invoke(context.Background(), viewerReq("f0", "/")); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke after Close: %v", err)
	}
	if err := m.Load(context.Background(), code("g", hostileSrc)); !errors.Is(err, ErrClosed) {
		t.Errorf("Load after Close: %v", err)
	}
}

func TestManagerPausedWorker(t *testing.T) {
	m := newTestManager(t, func(c *ManagerConfig) { c.UnresponsiveGrace = 100 * time.Millisecond })
	if err := m.Load(context.Background(), code("paused", hostileSrc)); err != nil {
		t.Fatal(err)
	}
	pids := m.WorkerPIDs()
	if len(pids) != 1 {
		t.Fatalf("pids = %v", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// SIGSTOP takes effect asynchronously: wait until the worker is stopped.
	deadline := time.Now().Add(5 * time.Second)
	for !processStopped(pids[0]) {
		if time.Now().After(deadline) {
			t.Fatalf("worker %d did not stop", pids[0])
		}
		time.Sleep(time.Millisecond)
	}
	res := mustInvoke(t, m, viewerReq("paused", "/"))
	if res.Outcome != OutcomeExecutionError || !errors.Is(res.Err, ErrUnresponsive) {
		t.Fatalf("paused worker: %s %v", res.Outcome, res.Err)
	}
	res = mustInvoke(t, m, viewerReq("paused", "/"))
	if res.Outcome != OutcomeContinue || !res.Cold {
		t.Fatalf("after restart: %+v", res)
	}
	if processAlive(pids[0]) {
		t.Errorf("paused worker %d not killed", pids[0])
	}
}

func TestManagerConcurrentDispatch(t *testing.T) {
	m := newTestManager(t, func(c *ManagerConfig) { c.InterpretersPerWorker = 4 })
	src := hdr + `
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	req.Header.Set("X-Echo", req.URI)
	return nil, nil
}
`
	if err := m.Load(context.Background(), code("echo", src)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				uri := fmt.Sprintf("/%d/%d", g, i)
				res, err := m.Invoke(context.Background(), viewerReq("echo", uri))
				if err != nil || res.Outcome != OutcomeContinue || res.Request.Header.Get("X-Echo") != uri {
					t.Errorf("%s: %v %+v", uri, err, res)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestManagerCallerCancel(t *testing.T) {
	m := newTestManager(t, nil)
	if err := m.Load(context.Background(), code("cancel", hostileSrc)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res, err := m.Invoke(ctx, viewerReq("cancel", "/loop"))
	// The caller's deadline bounds the handler: either the worker's timeout
	// or the host's wait ends first.
	if err != nil || res.Outcome != OutcomeExecutionError ||
		!(errors.Is(res.Err, context.DeadlineExceeded) || errors.Is(res.Err, ErrTimeout)) {
		t.Fatalf("cancelled: %v %s %v", err, res.Outcome, res.Err)
	}
	// The worker finishes the timed-out call on its own and keeps serving.
	res = mustInvoke(t, m, viewerReq("cancel", "/"))
	if res.Outcome != OutcomeContinue {
		t.Fatalf("after cancel: %+v", res)
	}
}

func TestManagerHugeResult(t *testing.T) {
	m := newTestManager(t, func(c *ManagerConfig) {
		// Building and encoding 70 MB takes about a second alone and several
		// under -race on a loaded host; the subject here is the frame limit,
		// not the time limit, so the timeout stays out of the way.
		c.Profile.Viewer.Timeout = 30 * time.Second
	})
	src := hdr + `
import "bytes"

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	return &edge.Response{Status: 200, Body: bytes.Repeat([]byte("x"), 70<<20)}, nil
}
`
	c := code("huge", src)
	c.MemoryMB = 1024
	if err := m.Load(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	pids := m.WorkerPIDs()
	res := mustInvoke(t, m, viewerReq("huge", "/"))
	if res.Outcome != OutcomeExecutionError || !errors.Is(res.Err, ErrHandler) || !strings.Contains(res.Err.Error(), "too large") {
		t.Fatalf("huge result: %s %v", res.Outcome, res.Err)
	}
	if after := m.WorkerPIDs(); len(after) != 1 || after[0] != pids[0] {
		t.Errorf("worker replaced: %v -> %v", pids, after)
	}
}

func TestManagerCrashIsolation(t *testing.T) {
	m := newTestManager(t, nil)
	for _, name := range []string{"victim", "bystander"} {
		if err := m.Load(context.Background(), code(name, hostileSrc)); err != nil {
			t.Fatal(err)
		}
	}
	bystanderPID := func() int { return workerPID(m, "bystander") }
	before := bystanderPID()
	// A slow call on the bystander is in flight while the victim crashes.
	done := make(chan Result, 1)
	go func() {
		res, _ := m.Invoke(context.Background(), viewerReq("bystander", "/"))
		done <- res
	}()
	res := mustInvoke(t, m, viewerReq("victim", "/recurse"))
	if res.Outcome != OutcomeExecutionError {
		t.Fatalf("victim: %+v", res)
	}
	if r := <-done; r.Outcome != OutcomeContinue {
		t.Fatalf("bystander in flight: %+v", r)
	}
	if after := bystanderPID(); after != before {
		t.Fatalf("bystander worker replaced: %d -> %d", before, after)
	}
}

func TestManagerUnloadInFlight(t *testing.T) {
	m := newTestManager(t, func(c *ManagerConfig) { c.Profile.Viewer.Timeout = 10 * time.Second })
	if err := m.Load(context.Background(), code("busy", hostileSrc)); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	f := m.fns[fnKey{"busy", 1}]
	m.mu.Unlock()
	done := make(chan Result, 1)
	go func() {
		res, _ := m.Invoke(context.Background(), viewerReq("busy", "/loop"))
		done <- res
	}()
	sent := func() bool { // the invoke frame is out to the worker
		f.mu.Lock()
		w := f.w
		f.mu.Unlock()
		w.p.mu.Lock()
		defer w.p.mu.Unlock()
		return len(w.p.pending) > 0
	}
	deadline := time.Now().Add(5 * time.Second)
	for !sent() {
		if time.Now().After(deadline) {
			t.Fatal("invocation never started")
		}
		time.Sleep(time.Millisecond)
	}
	m.Unload("busy", 1)
	res := <-done
	if res.Outcome != OutcomeExecutionError || !strings.Contains(res.Err.Error(), "unloaded") {
		t.Fatalf("in flight during unload: %s %v", res.Outcome, res.Err)
	}
}
