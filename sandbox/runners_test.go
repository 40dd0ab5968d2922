package sandbox

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"

	"github.com/edgelab/edgelab/edge"
)

// TestRunnerPoolReuses: sequential work runs on one long-lived runner;
// close stops it, and dispatch then refuses work.
func TestRunnerPoolReuses(t *testing.T) {
	rp := newRunnerPool()
	for i := range 20 {
		done := make(chan struct{})
		if !rp.dispatch(func() { close(done) }) {
			t.Fatal("dispatch refused on an open pool")
		}
		<-done
		if i == 0 {
			continue
		}
		// The runner is idle again once it waits for work; a dispatch
		// racing with that may start a second one, never more.
		if n := rp.live.Load(); n > 2 {
			t.Fatalf("%d runners after %d sequential calls", n, i+1)
		}
	}
	// Two at once need two runners.
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	for range 2 {
		rp.dispatch(func() { started <- struct{}{}; <-release })
	}
	<-started
	<-started
	if n := rp.live.Load(); n < 2 {
		t.Fatalf("%d runners for 2 concurrent calls", n)
	}
	rp.close()
	rp.close() // idempotent
	close(release)
	poll.True(t, 10*time.Second, "the runners to exit after close", func() bool { return rp.live.Load() == 0 })
	if rp.dispatch(func() {}) {
		t.Fatal("dispatch accepted work after close")
	}
}

// TestInProcessUsesAndStopsRunners: invocations run on the runner's pool
// (not a goroutine each), Close stops the pool's goroutines and later
// invocations fail with ErrClosed.
func TestInProcessUsesAndStopsRunners(t *testing.T) {
	r := NewInProcess(InProcessConfig{Profile: testProfile(), Interpreters: 2})
	if err := r.Load(context.Background(), code("hostile", hostileSrc)); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		res, err := r.Invoke(context.Background(), viewerReq("hostile", "/"))
		if err != nil || res.Outcome != OutcomeContinue {
			t.Fatalf("%v %+v", err, res)
		}
	}
	if n := r.runners.live.Load(); n < 1 || n > 2 {
		t.Fatalf("%d runners after 10 sequential invocations, want 1 or 2", n)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	poll.True(t, 10*time.Second, "the runners to exit after Close", func() bool { return r.runners.live.Load() == 0 })
	if _, err := r.Invoke(context.Background(), viewerReq("hostile", "/")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Invoke after Close: %v, want ErrClosed", err)
	}
	if err := r.Load(context.Background(), code("hostile", hostileSrc)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Load after Close: %v, want ErrClosed", err)
	}
}

// TestInProcessUnreachableStopsRunners: a runner nobody closes still
// stops its goroutines once it is garbage.
func TestInProcessUnreachableStopsRunners(t *testing.T) {
	rp := func() *runnerPool {
		r := NewInProcess(InProcessConfig{Profile: testProfile(), Interpreters: 1})
		if err := r.Load(context.Background(), code("hostile", hostileSrc)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Invoke(context.Background(), viewerReq("hostile", "/")); err != nil {
			t.Fatal(err)
		}
		return r.runners
	}()
	if rp.live.Load() == 0 {
		t.Fatal("no runner after an invocation")
	}
	poll.True(t, 10*time.Second, "the runners of an unreachable InProcess to exit", func() bool {
		runtime.GC()
		return rp.live.Load() == 0
	})
}

// runOnce runs one call on p directly and returns every result it
// delivered, once run itself has returned (the handler unwound) and a
// result is in.
func runOnce(t *testing.T, p *program, ctx context.Context, uri string, timeout time.Duration) []callResult {
	t.Helper()
	results := make(chan callResult, 4)
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		p.run(ctx, edge.ViewerRequest, edge.Info{}, &edge.Request{URI: uri}, nil, timeout, nil, func(r callResult) { results <- r })
	}()
	var out []callResult
	select {
	case r := <-results:
		out = append(out, r)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no result", uri)
	}
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the handler did not return", uri)
	}
	// Both deliverers are done now: the handler's run has returned, and
	// the timeout path delivers nothing after its first delivery (and
	// nothing at all when the handler delivered).
	for {
		select {
		case r := <-results:
			out = append(out, r)
		default:
			return out
		}
	}
}

// TestEngineTimeoutOnReusedProgram: a program that served calls (its timer
// re-armed each time) still reports a timeout exactly once, for the timer
// and for a cancelled parent context alike.
func TestEngineTimeoutOnReusedProgram(t *testing.T) {
	for _, viaParent := range []bool{false, true} {
		p, err := compile(map[string][]byte{"h.go": []byte(hostileSrc)})
		if err != nil {
			t.Fatal(err)
		}
		rp := newRunnerPool()
		for range 5 {
			res := p.call(context.Background(), edge.ViewerRequest, edge.Info{}, &edge.Request{URI: "/"}, nil, time.Minute, nil, rp)
			if res.kind != "" || res.req.Header.Get("X-Added") != "yes" {
				t.Fatalf("warm call: kind %q %s", res.kind, res.err)
			}
		}
		ctx, timeout := context.Background(), 50*time.Millisecond
		if viaParent {
			c, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			ctx, timeout = c, time.Minute
		}
		got := runOnce(t, p, ctx, "/loop", timeout)
		if len(got) != 1 || got[0].kind != kindTimeout {
			t.Fatalf("viaParent=%v: delivered %+v, want one %q", viaParent, got, kindTimeout)
		}
		rp.close()
		poll.True(t, 10*time.Second, "the runners to exit", func() bool { return rp.live.Load() == 0 })
	}
}

// TestEngineDeadlineRace: handlers that run right up to their deadline
// race the timeout timer. Every call delivers exactly once, and a program
// whose call won the race serves its next call with no stale timeout.
func TestEngineDeadlineRace(t *testing.T) {
	src := hdr + `
import "time"

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	if req.URI == "/edge" {
		for time.Now().Before(edge.InfoFrom(ctx).Deadline) {
		}
	}
	return nil, nil
}
`
	files := map[string][]byte{"h.go": []byte(src)}
	p, err := compile(files)
	if err != nil {
		t.Fatal(err)
	}
	var won, lost atomic.Int64
	for range 60 {
		got := runOnce(t, p, context.Background(), "/edge", 2*time.Millisecond)
		if len(got) != 1 {
			t.Fatalf("delivered %d results, want 1", len(got))
		}
		switch got[0].kind {
		case "":
			won.Add(1)
			// Reused: the next call must not see the previous timer.
			if next := runOnce(t, p, context.Background(), "/", time.Minute); len(next) != 1 || next[0].kind != "" {
				t.Fatalf("call after a won race: %+v", next)
			}
		case kindTimeout:
			lost.Add(1)
			if p, err = compile(files); err != nil { // discarded, as callers do
				t.Fatal(err)
			}
		default:
			t.Fatalf("kind %q (%s)", got[0].kind, got[0].err)
		}
	}
	t.Logf("handler won %d, timeout won %d", won.Load(), lost.Load())
}

// TestEngineHandlerSeesContext: the handler's context carries the
// deadline, is live during the call and ends at the deadline (a handler
// waiting on Done is stopped by it), after which the call reports a
// timeout or the handler's DeadlineExceeded, once.
func TestEngineHandlerSeesContext(t *testing.T) {
	src := hdr + `
import "time"

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	dl, ok := ctx.Deadline()
	if !ok || !dl.Equal(edge.InfoFrom(ctx).Deadline) || ctx.Err() != nil {
		return edge.NewResponse(500, "bad context"), nil
	}
	if req.URI == "/wait" {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	req.Header.Set("X-Left", time.Until(dl).Round(time.Minute).String())
	return nil, nil
}
`
	p, err := compile(map[string][]byte{"h.go": []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	got := runOnce(t, p, context.Background(), "/", time.Hour)
	if len(got) != 1 || got[0].kind != "" || got[0].resp != nil || got[0].req.Header.Get("X-Left") != "1h0m0s" {
		t.Fatalf("delivered %+v", got)
	}
	got = runOnce(t, p, context.Background(), "/wait", 30*time.Millisecond)
	if len(got) != 1 {
		t.Fatalf("delivered %d results, want 1", len(got))
	}
	if k := got[0].kind; k != kindTimeout && (k != kindError || got[0].err != context.DeadlineExceeded.Error()) {
		t.Fatalf("kind %q (%s), want a timeout", k, got[0].err)
	}
}
