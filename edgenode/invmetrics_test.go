package edgenode

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

// TestInvocationMetricsCounted: the cached metric children count each
// (function, event, outcome) apart, and the duration histogram sees every
// invocation.
func TestInvocationMetricsCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := newCountingOrigin(t, okHandler("no-store"))
	r := newFakeRunner()
	fail := false
	r.handlers["fn"] = func(inv sandbox.Invocation) sandbox.Result {
		if fail {
			return sandbox.Result{Outcome: sandbox.OutcomeExecutionError}
		}
		return cont(inv)
	}
	n := startNode(t, r, func(c *Config) { c.Registerer = reg; c.NodeID = "n1" })
	b := &edgelabv1.Behavior{Functions: []*edgelabv1.Association{assoc(evVR, "fn")}}
	if err := n.Apply(context.Background(), snapshot(1, o.URL, "", b), nil); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		do(t, n, "GET", "/a", nil, "")
	}
	fail = true
	if res := do(t, n, "GET", "/a", nil, ""); res.status != 503 {
		t.Fatalf("status %d", res.status)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	var observed uint64
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := ""
			for _, l := range m.GetLabel() {
				key += l.GetName() + "=" + l.GetValue() + ","
			}
			switch mf.GetName() {
			case "edgelab_edge_function_invocations_total":
				counts[key] = m.GetCounter().GetValue()
			case "edgelab_edge_function_duration_seconds":
				observed += m.GetHistogram().GetSampleCount()
			}
		}
	}
	want := map[string]float64{
		"event=viewer-request,function=fn,node=n1,outcome=continue,":             3,
		"event=viewer-request,function=fn,node=n1,outcome=LambdaExecutionError,": 1,
	}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, counts[k], v, counts)
		}
	}
	if observed != 4 {
		t.Errorf("duration histogram saw %d invocations, want 4", observed)
	}
}
