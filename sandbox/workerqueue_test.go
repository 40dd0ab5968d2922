package sandbox

import (
	"testing"
	"time"

	"github.com/edgelab/edgelab/edge"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// TestWorkerQueueBusy: an invocation beyond the worker's interpreters waits
// for one; when none frees up within its timeout it replies kindBusy (the
// host's LimitExceeded), and once a token is back it runs.
func TestWorkerQueueBusy(t *testing.T) {
	w := &workerServer{runners: newRunnerPool()}
	res := w.load(&edgelabv1.WorkerLoad{
		Function: &edgelabv1.FunctionVersion{Files: []*edgelabv1.SourceFile{{Name: "fn.go", Content: []byte(hdr + `
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	req.Header.Set("X-Ran", "1")
	return nil, nil
}
`)}}},
		Interpreters: 1,
	})
	if res.GetError() != "" {
		t.Fatalf("load: %s", res.GetError())
	}
	call := func(timeout time.Duration) *resultMsg {
		t.Helper()
		got := make(chan *resultMsg, 1)
		inv := viewerReq("fn", "/")
		w.invoke(&invokeMsg{event: edge.ViewerRequest, req: inv.Request, timeout: timeout, info: inv.Info}, 1,
			func(r *resultMsg) { got <- r })
		select {
		case r := <-got:
			return r
		case <-time.After(10 * time.Second):
			t.Fatal("no reply")
			return nil
		}
	}

	w.tokens <- struct{}{} // the only interpreter is busy
	start := time.Now()
	r := call(30 * time.Millisecond)
	if r.kind != kindBusy {
		t.Fatalf("kind = %q (%s), want %q", r.kind, r.err, kindBusy)
	}
	if waited := time.Since(start); waited < 30*time.Millisecond {
		t.Fatalf("replied busy after %s, before the 30ms timeout", waited)
	}

	// Freed while waiting: the queued call runs.
	go func() {
		time.Sleep(20 * time.Millisecond)
		<-w.tokens
	}()
	r = call(5 * time.Second)
	if r.kind != "" || r.req == nil || r.req.Header.Get("X-Ran") != "1" {
		t.Fatalf("queued call: kind %q err %q req %+v", r.kind, r.err, r.req)
	}
	if n := len(w.tokens); n != 0 {
		t.Fatalf("%d tokens held after the calls, want 0", n)
	}
}
