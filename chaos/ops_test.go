package chaos

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/chaos/nemesis"
	"github.com/edgelab/edgelab/chaos/scenario"
)

func TestRunnerNewOperations(t *testing.T) {
	yaml := `name: fake-ops
target: allinone
load: {rate: 100, duration: 5s, paths: ["/", "/static/a.css"], methods: [GET, POST], viewerRegions: [us-east-1]}
setup:
  - action: publish
    function: probe
    source: |
` + indent(probe) + `
  - {action: apply, distribution: demo, event: viewer-request, function: probe, version: latest}
steps:
  - {at: 100ms, action: invalidate, distribution: demo, paths: ["/static/*"]}
  - {at: 200ms, action: kill-after-ack, name: acked, target: "node:@eu-west-1"}
  - {at: 300ms, action: heal, faults: [acked]}
  - {at: 400ms, action: publish, function: probe, broken: true}
  - {at: 400ms, action: apply, distribution: demo, event: viewer-request, function: probe, version: latest}
  - {at: 4s, action: apply, distribution: demo, event: viewer-request, function: probe, version: good}
invariants:
  - name: fresh-after-invalidation
  - name: nacked-never-served
  - name: at-most-once
  - name: ack-implies-durable
`
	rep, faults := runFake(t, yaml, nil)
	for _, s := range rep.Steps {
		if !s.OK {
			t.Errorf("step %s: %s", s.Step, s.Err)
		}
	}
	if len(rep.Invalidations) != 1 || rep.Invalidations[0].Revision == 0 {
		t.Errorf("invalidations %+v", rep.Invalidations)
	}
	if len(rep.Broken) != 1 || rep.Broken[0].Version != 2 || len(rep.Broken[0].Windows) != 1 ||
		rep.Broken[0].Windows[0].From == 0 || rep.Broken[0].Windows[0].To <= rep.Broken[0].Windows[0].From {
		t.Errorf("broken %+v", rep.Broken)
	}
	if !strings.Contains(strings.Join(faults.log, ";"), "inject kill node:b1") {
		t.Errorf("kill-after-ack did not kill the eu-west-1 node: %v", faults.log)
	}
	// The fake runs every version it is told to, the broken one too: the
	// checker must see it served.
	if invariantResult(t, rep, "nacked-never-served") {
		t.Error("a lab that served the broken version passed nacked-never-served")
	}
}

func TestNemesisStepExpandsToTheSeededSchedule(t *testing.T) {
	lab := newFakeLab(t)
	r, err := NewRunner(Config{Lab: lab, Faults: newFakeFaults(lab)})
	if err != nil {
		t.Fatal(err)
	}
	sc := &scenario.Scenario{Name: "n", Steps: []scenario.Step{{At: scenario.Duration(time.Second), Action: scenario.ActionNemesis, Seed: 5, Duration: scenario.Duration(40 * time.Second)}},
		Invariants: []scenario.Invariant{{Name: "converge"}}}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	got, err := r.expandNemesis(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	want, err := nemesis.Schedule(nemesis.Config{Seed: 5, Duration: 40 * time.Second, Regions: []string{"eu-west-1", "us-east-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Steps) != len(want) || len(want) == 0 {
		t.Fatalf("expanded to %d steps, schedule has %d", len(got.Steps), len(want))
	}
	for i := range want {
		want[i].At += scenario.Duration(time.Second)
	}
	if !reflect.DeepEqual(nemesis.Lines(got.Steps), nemesis.Lines(want)) {
		t.Fatalf("expansion differs from the schedule:\n%v\n%v", nemesis.Lines(got.Steps), nemesis.Lines(want))
	}
	if len(sc.Steps) != 1 {
		t.Fatal("expansion changed the parsed scenario")
	}
}
