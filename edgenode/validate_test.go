package edgenode

import (
	"context"
	"testing"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

// validatingRunner is a fakeRunner that says it validates its results.
type validatingRunner struct{ *fakeRunner }

func (validatingRunner) ValidatesResults() bool { return true }

// TestResultRulesAppliedOnce: the node applies the result rules to a
// runner's results only when the runner does not (sandbox.ValidatesResults):
// the same rule-breaking result is a 502 from a plain runner and passes
// unchecked a second time from one that validates itself.
func TestResultRulesAppliedOnce(t *testing.T) {
	breaksRule := func(inv sandbox.Invocation) sandbox.Result {
		r := cont(inv)
		r.Request.Header.Set("Via", "forged") // read-only at viewer-request
		return r
	}
	o := newCountingOrigin(t, okHandler("no-store"))
	for _, tc := range []struct {
		name   string
		runner sandbox.Runner
		want   int
	}{
		{"node validates", newFakeRunner(), 502},
		{"runner validates", validatingRunner{newFakeRunner()}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fr := tc.runner.(interface{ fake() *fakeRunner }).fake()
			fr.handlers["vr"] = breaksRule
			n := startNode(t, tc.runner, nil)
			if err := n.Apply(context.Background(), snapshot(1, o.URL, "", &edgelabv1.Behavior{
				Functions: []*edgelabv1.Association{assoc(evVR, "vr")}}), nil); err != nil {
				t.Fatal(err)
			}
			if r := do(t, n, "GET", "/x", nil, ""); r.status != tc.want {
				t.Fatalf("status %d (%s), want %d", r.status, xcache(r), tc.want)
			}
		})
	}
}

func (f *fakeRunner) fake() *fakeRunner { return f }
