package sandbox

import (
	"context"
	"testing"
)

const infoSrc = `package fn

import (
	"context"
	"strconv"

	"github.com/edgelab/edgelab/edge"
)

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	i := edge.InfoFrom(ctx)
	req.Header.Set("X-Info", string(i.EventType)+" "+i.FunctionName+":"+strconv.FormatInt(i.FunctionVersion, 10)+" "+i.RequestID)
	return nil, nil
}
`

// TestHandlerInfo: both runners give the handler the caller's Info with
// the event and the function version filled in by the sandbox, whatever
// the caller put there.
func TestHandlerInfo(t *testing.T) {
	inproc := NewInProcess(InProcessConfig{Profile: testProfile(), Interpreters: 1})
	t.Cleanup(func() { _ = inproc.Close() })
	runners := map[string]Runner{"manager": newTestManager(t, nil), "inprocess": inproc}
	for name, r := range runners {
		t.Run(name, func(t *testing.T) {
			if err := r.Load(context.Background(), code("info", infoSrc)); err != nil {
				t.Fatal(err)
			}
			inv := viewerReq("info", "/")
			inv.Info.FunctionName, inv.Info.EventType = "stale", "origin-response"
			res, err := r.Invoke(context.Background(), inv)
			if err != nil || res.Outcome != OutcomeContinue {
				t.Fatalf("%v %s %v", err, res.Outcome, res.Err)
			}
			if got, want := res.Request.Header.Get("X-Info"), "viewer-request info:1 req-/"; got != want {
				t.Errorf("info %q, want %q", got, want)
			}
		})
	}
}
