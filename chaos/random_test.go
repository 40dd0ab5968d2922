package chaos

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/chaos/scenario"
)

// shrinkYAML has eight timed steps; only the second (node b1 starts
// serving an older version) makes the run fail.
const shrinkYAML = `name: shrink
target: allinone
load: {rate: 200, duration: 700ms, paths: ["/"], viewerRegions: [us-east-1, eu-west-1]}
setup:
  - action: publish
    function: probe
    count: 2
    source: |
      package probe

      import (
      	"context"

      	"github.com/edgelab/edgelab/edge"
      )

      func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) { return nil, nil }
  - {action: apply, distribution: demo, event: viewer-request, function: probe, version: latest}
  - {action: wait, for: deployed, distribution: demo}
steps:
  - {at: 50ms, action: invalidate, distribution: demo, paths: ["/a"]}
  - {at: 100ms, action: fault, kind: replication-duplicate, target: "node:b1"}
  - {at: 150ms, action: invalidate, distribution: demo, paths: ["/b"]}
  - {at: 200ms, action: invalidate, distribution: demo, paths: ["/c"]}
  - {at: 250ms, action: invalidate, distribution: demo, paths: ["/d"]}
  - {at: 300ms, action: invalidate, distribution: demo, paths: ["/e"]}
  - {at: 350ms, action: invalidate, distribution: demo, paths: ["/f"]}
  - {at: 400ms, action: invalidate, distribution: demo, paths: ["/g"]}
invariants:
  - name: monotonic-versions
`

func runRandomFake(t *testing.T, yaml string, maxReplays int) *RandomRun {
	t.Helper()
	sc, err := scenario.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	lab := newFakeLab(t)
	r, err := NewRunner(Config{Lab: lab, Faults: newFakeFaults(lab), PollInterval: 10 * time.Millisecond, Grace: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := r.RunRandom(context.Background(), sc, maxReplays)
	if err != nil {
		t.Fatalf("RunRandom: %v", err)
	}
	return rr
}

func TestRunRandomFindsTheShortestFailingPrefix(t *testing.T) {
	// Prefixes of 4 and 2 steps keep the failing step and fail; the
	// prefix of 1 step drops it and passes, which ends the search.
	rr := runRandomFake(t, shrinkYAML, 10)
	if rr.Report.Passed {
		t.Fatal("the full run passed; the fake lab should have regressed node b1")
	}
	if rr.Shortest == nil || rr.Shortest.Passed || rr.ShortestSteps != 2 || rr.Replays != 3 {
		t.Fatalf("shortest %d steps after %d replays (report %v), want 2 steps after 3", rr.ShortestSteps, rr.Replays, rr.Shortest != nil)
	}
	if len(rr.ShortestSchedule) != 2 || rr.ShortestSchedule[1].Kind != "replication-duplicate" {
		t.Fatalf("shortest schedule %v", rr.ShortestSchedule)
	}
	if rr.Shortest.Scenario != "shrink-prefix-2" {
		t.Fatalf("shortest report is %q", rr.Shortest.Scenario)
	}
}

func TestRunRandomReplayBudget(t *testing.T) {
	rr := runRandomFake(t, shrinkYAML, 1)
	if rr.Replays != 1 || rr.ShortestSteps != 4 {
		t.Fatalf("%d replays, shortest %d steps; want 1 replay finding 4 steps", rr.Replays, rr.ShortestSteps)
	}
}

func TestRunRandomPassingRunIsNotReplayed(t *testing.T) {
	pass := strings.Replace(shrinkYAML, `kind: replication-duplicate, target: "node:b1"`, `kind: replication-delay, target: "node:b1", latency: 10ms`, 1)
	rr := runRandomFake(t, pass, 10)
	if !rr.Report.Passed || rr.Replays != 0 || rr.Shortest != nil {
		t.Fatalf("passed %v, %d replays, shortest %v", rr.Report.Passed, rr.Replays, rr.Shortest != nil)
	}
}
