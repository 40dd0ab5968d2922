package edgenode

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/edgelab/edgelab/internal/poll"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

// gathered is a registry's series as "name{l=v,...}" -> value (counters
// and gauges) or sample count (histograms).
func gathered(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(ls)
			key := mf.GetName() + "{" + strings.Join(ls, ",") + "}"
			switch mf.GetType() {
			case dto.MetricType_HISTOGRAM:
				out[key] = float64(m.GetHistogram().GetSampleCount())
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			default:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// seriesOf lists the keys of got whose name and labels contain every part.
func seriesOf(got map[string]float64, parts ...string) []string {
	var out []string
next:
	for k := range got {
		for _, p := range parts {
			if !strings.Contains(k, p) {
				continue next
			}
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestInvocationMetricsCounted: the cached metric children count each
// (function, version, event, outcome) apart; the event and the version
// duration histograms see every invocation; timeouts, memory-limit kills
// and cold starts are counted per version; the request latency histogram
// sees every viewer request; the node exports the memory limit of each
// version it holds.
func TestInvocationMetricsCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := newCountingOrigin(t, okHandler("no-store"))
	r := newFakeRunner()
	results := []sandbox.Result{
		{Outcome: sandbox.OutcomeContinue, Cold: true},
		{Outcome: sandbox.OutcomeContinue},
		{Outcome: sandbox.OutcomeContinue},
		{Outcome: sandbox.OutcomeExecutionError, Err: fmt.Errorf("%w: fn:1: timeout after 5s", sandbox.ErrTimeout)},
		{Outcome: sandbox.OutcomeExecutionError, Err: fmt.Errorf("%w: fn:1: worker killed", sandbox.ErrMemoryLimit)},
	}
	calls := 0
	r.handlers["fn"] = func(inv sandbox.Invocation) sandbox.Result {
		res := results[calls]
		calls++
		res.Request, res.Response = inv.Request, inv.Response
		return res
	}
	mr := memRunner{r, []sandbox.WorkerMemory{{Function: "fn", Version: 1, RSSBytes: 7 << 20}}}
	n := startNode(t, mr, func(c *Config) { c.Registerer = reg; c.NodeID = "n1" })
	b := &edgelabv1.Behavior{Functions: []*edgelabv1.Association{assoc(evVR, "fn")}}
	if err := n.Apply(context.Background(), snapshot(1, o.URL, "", b), nil); err != nil {
		t.Fatal(err)
	}
	for i := range results {
		want := 200
		if results[i].Outcome == sandbox.OutcomeExecutionError {
			want = 503
		}
		if res := do(t, n, "GET", "/a", nil, ""); res.status != want {
			t.Fatalf("request %d: status %d, want %d", i, res.status, want)
		}
	}
	got := gathered(t, reg)
	want := map[string]float64{
		"edgelab_edge_function_invocations_total{event=viewer-request,function=fn,node=n1,outcome=continue,version=1}":             3,
		"edgelab_edge_function_invocations_total{event=viewer-request,function=fn,node=n1,outcome=LambdaExecutionError,version=1}": 2,
		"edgelab_edge_function_duration_seconds{event=viewer-request,node=n1,outcome=continue}":                                    3,
		"edgelab_edge_function_version_duration_seconds{function=fn,node=n1,version=1}":                                            5,
		"edgelab_edge_function_cold_starts_total{function=fn,node=n1,version=1}":                                                   1,
		"edgelab_edge_function_timeouts_total{function=fn,node=n1,version=1}":                                                      1,
		"edgelab_edge_function_memory_exceeded_total{function=fn,node=n1,version=1}":                                               1,
		"edgelab_edge_function_memory_limit_bytes{function=fn,node=n1,version=1}":                                                  128 << 20,
		"edgelab_edge_function_memory_used_bytes{function=fn,node=n1,version=1}":                                                   7 << 20,
		"edgelab_edge_request_duration_seconds{node=n1}":                                                                           5,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (series: %v)", k, got[k], v, seriesOf(got, "edgelab_edge_"))
		}
	}
}

// memRunner is a fake runner that reports its workers' memory.
type memRunner struct {
	*fakeRunner
	mem []sandbox.WorkerMemory
}

func (m memRunner) WorkerMemory() []sandbox.WorkerMemory { return m.mem }

// TestVersionSeriesForgotten: when a version is replaced, its series go
// with it once it is unloaded, so per-version series stay as many as the
// versions the node holds.
func TestVersionSeriesForgotten(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := newCountingOrigin(t, okHandler("no-store"))
	r := newFakeRunner()
	r.handlers["fn"] = cont
	n := startNode(t, r, func(c *Config) { c.Registerer = reg; c.NodeID = "n1" })
	for v := int64(1); v <= 3; v++ {
		a := assoc(evVR, "fn")
		a.Version = v
		if err := n.Apply(context.Background(), snapshot(v, o.URL, "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{a}}), nil); err != nil {
			t.Fatal(err)
		}
		do(t, n, "GET", "/a", nil, "")
	}
	// The replaced versions are unloaded once their requests are done
	// (at once, or by the drain goroutine).
	poll.Until(t, 10*time.Second, "only version 3's series", func() error {
		got := gathered(t, reg)
		for _, name := range []string{"edgelab_edge_function_invocations_total", "edgelab_edge_function_version_duration_seconds", "edgelab_edge_function_memory_limit_bytes"} {
			if s := seriesOf(got, name+"{", "function=fn"); len(s) != 1 || !strings.Contains(s[0], "version=3") {
				return fmt.Errorf("%s: series %v", name, s)
			}
		}
		return nil
	})
}
