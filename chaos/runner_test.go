package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/chaos/history"
	"github.com/edgelab/edgelab/chaos/scenario"
)

const probe = `package probe

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) { return nil, nil }
`

func indent(s string) string {
	return "      " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n      ")
}

// scenarioYAML builds a short scenario; extra steps are appended to the timed ones.
func scenarioYAML(extraSteps string) string {
	return `name: fake-run
target: allinone
load: {rate: 200, duration: 600ms, paths: ["/", "/x"], viewerRegions: [us-east-1, eu-west-1]}
setup:
  - action: publish
    function: probe
    count: 2
    source: |
` + indent(probe) + `
  - {action: apply, distribution: demo, event: viewer-request, function: probe, version: latest}
  - {action: wait, for: deployed, distribution: demo}
steps:
  - {at: 100ms, action: kill, name: k1, target: "node:@us-east-1"}
  - {at: 250ms, action: restart, target: "node:@us-east-1"}
  - action: publish
    at: 300ms
    function: probe
    source: |
` + indent(probe) + `
  - {at: 320ms, action: apply, distribution: demo, event: viewer-request, function: probe}
` + extraSteps + `
invariants:
  - name: no-lost-requests
  - {name: converge, within: 2s}
  - name: monotonic-versions
  - name: durable-acks
`
}

func runFake(t *testing.T, yaml string, mutate func(*fakeLab)) (*Report, *fakeFaults) {
	t.Helper()
	sc, err := scenario.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	lab := newFakeLab(t)
	if mutate != nil {
		mutate(lab)
	}
	faults := newFakeFaults(lab)
	r, err := NewRunner(Config{Lab: lab, Faults: faults, PollInterval: 10 * time.Millisecond, Grace: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Run(context.Background(), sc)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep, faults
}

func invariantResult(t *testing.T, rep *Report, name string) bool {
	t.Helper()
	for _, inv := range rep.Invariants {
		if inv.Name == name {
			return inv.Passed
		}
	}
	t.Fatalf("invariant %s not in report", name)
	return false
}

func TestRunnerGoodRun(t *testing.T) {
	rep, faults := runFake(t, scenarioYAML(""), nil)
	var buf bytes.Buffer
	_ = rep.WriteTable(&buf)
	if !rep.Passed {
		t.Fatalf("good run failed:\n%s", buf.String())
	}
	if rep.Requests == 0 || len(rep.Faults) != 1 || len(rep.Acks) != 5 {
		t.Fatalf("requests %d faults %d acks %d", rep.Requests, len(rep.Faults), len(rep.Acks))
	}
	// The us-east-1 node a1 is killed then restarted: the log shows both.
	if got := strings.Join(faults.log, "; "); got != "inject kill node:a1; heal kill node:a1" {
		t.Fatalf("fault log %q", got)
	}
	if len(rep.Convergence) != 2 {
		t.Fatalf("convergence %+v", rep.Convergence)
	}
	for _, want := range []string{"fake-run", "PASS", "no-lost-requests", "converged"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
	buf.Reset()
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Scenario != "fake-run" || back.Requests != rep.Requests {
		t.Fatalf("JSON round trip: %v %+v", err, back.Scenario)
	}
}

func TestRunnerCatchesRegressedNode(t *testing.T) {
	// At 400ms node b1 starts serving version 1 after it served version 3.
	rep, _ := runFake(t, scenarioYAML(`  - {at: 400ms, action: fault, kind: replication-duplicate, target: "node:b1"}`), nil)
	if rep.Passed || invariantResult(t, rep, "monotonic-versions") {
		t.Fatalf("regressed node not caught: %+v", rep.Invariants)
	}
	if !invariantResult(t, rep, "no-lost-requests") || !invariantResult(t, rep, "durable-acks") {
		t.Fatalf("unrelated invariant failed: %+v", rep.Invariants)
	}
}

func TestRunnerCatchesLostRequests(t *testing.T) {
	// Every edge is down in the lab but no fault says so: the gateway's 502s
	// happen while the runner believes a healthy path exists.
	rep, _ := runFake(t, scenarioYAML(""), func(l *fakeLab) {
		l.nodes = append(l.nodes, &fakeNode{id: "ghost", region: "sa-east-1", live: false,
			applied: []history.Applied{{Revision: 1, Time: time.Now()}}})
		for _, n := range l.nodes[:3] {
			n.live = false // the gateway answers 502 for everything
		}
	})
	if invariantResult(t, rep, "no-lost-requests") {
		t.Fatalf("502s with no fault injected passed no-lost-requests: %+v", rep.Errors)
	}
}

func TestRunnerExpectedFailure(t *testing.T) {
	extra := `  - {at: 350ms, action: pause, name: quorum, target: "etcd:@1"}
  - action: publish
    at: 360ms
    function: probe
    expect: failure
    timeout: 1s
    source: |
` + indent(probe) + `
  - {at: 420ms, action: unpause, target: "etcd:@1"}`
	rep, _ := runFake(t, scenarioYAML(extra), nil)
	var buf bytes.Buffer
	_ = rep.WriteTable(&buf)
	if !rep.Passed {
		t.Fatalf("run with an expected failed write failed:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), "failed as expected") {
		t.Fatalf("table does not show the expected failure:\n%s", buf.String())
	}
}

func TestRunnerRefusesWrongLab(t *testing.T) {
	sc, err := scenario.Parse([]byte(strings.Replace(scenarioYAML(""), "target: allinone", "target: compose", 1)))
	if err != nil {
		t.Fatal(err)
	}
	lab := newFakeLab(t)
	r, err := NewRunner(Config{Lab: lab, Faults: newFakeFaults(lab)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(context.Background(), sc); err == nil || !strings.Contains(err.Error(), "compose") {
		t.Fatalf("Run on wrong lab = %v", err)
	}
	if _, err := NewRunner(Config{}); err == nil {
		t.Fatal("NewRunner without lab succeeded")
	}
}

func TestHealthyWindows(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	nodes := []history.NodeHistory{{Node: "a", Region: "us"}, {Node: "b", Region: "eu"}}
	out := func(target, kind string, from, to int) history.Outage {
		return history.Outage{Target: target, Kind: kind, Window: history.Window{From: at(from), To: at(to)}}
	}
	tests := []struct {
		name    string
		outages []history.Outage
		want    []history.Window
	}{
		{"no faults", nil, []history.Window{{From: at(0), To: at(100)}}},
		{"one of two down", []history.Outage{out("node:a", "kill", 10, 20)}, []history.Window{{From: at(0), To: at(100)}}},
		{"both down overlap", []history.Outage{out("node:a", "kill", 10, 30), out("region:eu", "pause", 20, 40)},
			[]history.Window{{From: at(0), To: at(19)}, {From: at(31), To: at(100)}}},
		{"origin fault is not an edge outage", []history.Outage{out("node:a", "kill", 10, 30), out("origin:web", "origin-outage", 0, 50)},
			[]history.Window{{From: at(0), To: at(100)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := HealthyWindows(at(0), at(100), nodes, tc.outages, time.Second)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if !got[i].From.Equal(tc.want[i].From) || !got[i].To.Equal(tc.want[i].To) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
	if HealthyWindows(at(0), at(1), nil, nil, 0) != nil {
		t.Fatal("no edges must mean no healthy path")
	}
}

func TestErrorsAndFailovers(t *testing.T) {
	nodes := []history.NodeHistory{{Node: "a", Region: "us"}, {Node: "b", Region: "eu"}}
	reqs := []history.Request{
		{ViewerRegion: "us", Node: "a", Status: 200},
		{ViewerRegion: "us", Node: "b", Status: 200},              // failover
		{ViewerRegion: "ap", Node: "a", Status: 200},              // no ap edge: not a failover
		{ViewerRegion: "eu", Node: "b", Status: 200, Attempts: 2}, // gateway retry
		{ViewerRegion: "us", Err: "connection reset"},             // transport
		{ViewerRegion: "us", Node: "a", Status: 502, XCache: "Error from edgelab"},
	}
	if got := Failovers(reqs, nodes); got != 2 {
		t.Errorf("Failovers = %d, want 2", got)
	}
	got := ErrorsByKind(reqs)
	if got["transport"] != 1 || got["502 Error"] != 1 || len(got) != 2 {
		t.Errorf("ErrorsByKind = %v", got)
	}
}

// TestRunnerResolveSkipsRECs: node:@<region> names an edge location, never
// the region's regional edge cache, whatever the ids' order.
func TestRunnerResolveSkipsRECs(t *testing.T) {
	_, faults := runFake(t, scenarioYAML(""), func(l *fakeLab) {
		l.nodes = append([]*fakeNode{{id: "a0-rec", region: "us-east-1", role: "rec", live: true,
			applied: []history.Applied{{Revision: 1, Time: time.Now()}}}}, l.nodes...)
	})
	if got := strings.Join(faults.log, "; "); got != "inject kill node:a1; heal kill node:a1" {
		t.Fatalf("fault log %q, want the kill on a1, not the REC a0-rec", got)
	}
}
