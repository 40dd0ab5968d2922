package sandbox

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgelab/edgelab/egress"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// TestHostRefusesFetchForCallNotInFlight: a rogue worker asking for a
// fetch on behalf of an invocation the node is not waiting for (or of a
// call that is not an invocation) gets a refusal, and the node makes no
// request; one for an invocation in flight is made under that call's
// policy.
func TestHostRefusesFetchForCallNotInFlight(t *testing.T) {
	hostSide, workerSide := net.Pipe()
	t.Cleanup(func() { hostSide.Close(); workerSide.Close() })
	var made atomic.Int32
	var policySeen atomic.Pointer[egress.Policy]
	nodePolicy := &egress.Policy{}
	p := &proc{cfg: procConfig{fetch: func(ctx context.Context, policy *egress.Policy, req *http.Request) (*http.Response, error) {
		made.Add(1)
		policySeen.Store(policy)
		return &http.Response{StatusCode: 204, Body: http.NoBody, Header: http.Header{}}, nil
	}}, out: newFrameWriter(hostSide), pending: map[uint64]pendingCall{
		7: {invoke: true, egress: nodePolicy, deadline: time.Now().Add(time.Minute)},
		8: {invoke: false, deadline: time.Now().Add(time.Minute)}, // a load
	}}
	p.fetchCtx, p.cancelFetches = context.WithCancel(t.Context())
	in := newFrameReader(workerSide)
	ask := func(invocation uint64) *edgelabv1.WorkerFetchResult {
		t.Helper()
		p.startFetch(100+invocation, &edgelabv1.WorkerFetch{Invocation: invocation, Method: "GET", Url: "http://example.invalid/"})
		f, err := in.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		if f.id != 100+invocation || f.pb.GetFetchResult() == nil {
			t.Fatalf("reply %d %s, want a fetch result for %d", f.id, f.kind(), 100+invocation)
		}
		return f.pb.GetFetchResult()
	}
	for _, id := range []uint64{99, 8} {
		if r := ask(id); r.GetError() != errFetchNotInFlight.Error() {
			t.Errorf("fetch for call %d: %+v, want refused", id, r)
		}
	}
	if made.Load() != 0 {
		t.Fatalf("the node made %d requests for calls not in flight", made.Load())
	}
	if r := ask(7); r.GetError() != "" || r.GetStatus() != 204 {
		t.Fatalf("fetch for the invocation in flight: %+v", r)
	}
	if got := policySeen.Load(); got != nodePolicy {
		t.Errorf("fetch made under policy %p, want the invocation's %p", got, nodePolicy)
	}
	p.wg.Wait()
}
