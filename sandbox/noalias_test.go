package sandbox

import (
	"context"
	"net/http"
	"reflect"
	"testing"

	"github.com/edgelab/edgelab/edge"
)

const mutateSrc = `package fn

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	req.Header.Set("X-Added", "1")
	req.Header.Del("Accept")
	req.URI = "/rewritten"
	return nil, nil
}
`

// TestInvokeLeavesInvocationAlone: the Runner contract the edge node relies
// on (it shares the viewer's request with the invocation instead of
// copying it): a function's edits come back in the result, never in
// inv.Request.
func TestInvokeLeavesInvocationAlone(t *testing.T) {
	inproc := NewInProcess(InProcessConfig{Interpreters: 1})
	t.Cleanup(func() { _ = inproc.Close() })
	runners := map[string]Runner{
		"worker":     newTestManager(t, nil),
		"in-process": inproc,
	}
	for name, r := range runners {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if err := r.Load(ctx, code("mutate", mutateSrc)); err != nil {
				t.Fatal(err)
			}
			inv := Invocation{Function: "mutate", Version: 1, Event: edge.ViewerRequest,
				Request: &edge.Request{Method: "GET", URI: "/index.html", Header: http.Header{
					"Accept": {"text/html"}, "Host": {"demo.edgelab.test"}}}}
			before := inv.Request.Clone()
			res, err := r.Invoke(ctx, inv)
			if err != nil || res.Outcome != OutcomeContinue {
				t.Fatalf("%v %+v", err, res)
			}
			if res.Request.URI != "/rewritten" || res.Request.Header.Get("X-Added") != "1" || res.Request.Header.Get("Accept") != "" {
				t.Fatalf("result lacks the edits: %+v", res.Request)
			}
			if !reflect.DeepEqual(inv.Request, before) {
				t.Fatalf("invocation request modified: %+v, was %+v", inv.Request, before)
			}
		})
	}
}
