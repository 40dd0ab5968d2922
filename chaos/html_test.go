package chaos

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/chaos/history"
	"github.com/edgelab/edgelab/chaos/invariant"
)

func TestWriteHTMLSelfContained(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	reqs := []history.Request{
		{Start: start.Add(time.Second), End: start.Add(time.Second), Node: "a", Status: 200},
		{Start: start.Add(3 * time.Second), End: start.Add(3 * time.Second), Node: "a", Status: 502},
	}
	nodes := []history.NodeHistory{{Node: "a", Region: "us-east-1", Applied: []history.Applied{{Revision: 4, Time: start}, {Revision: 6, Time: start.Add(2 * time.Second)}}}}
	rep := &Report{
		Scenario: "html-<test>", Lab: "allinone", Started: start, Duration: 5 * time.Second, Seed: 99,
		Command: "edgectl chaos run --random --seed 99 --duration 5s",
		Faults:  []FaultRecord{{Kind: "kill", Target: "node:a", From: time.Second, To: 3 * time.Second}},
		Invariants: []invariant.Result{{Name: "at-most-once", Violations: 1, Details: []string{"POST /echo reached the origin 2 times"},
			Marks: []time.Time{start.Add(2 * time.Second)}}},
		Timeline: buildTimeline(start, start.Add(5*time.Second), reqs, nodes),
	}
	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"<svg", `class="fault proc"`, `class="err"`, `class="rev"`, `line class="viol"`,
		"reached the origin 2 times", "--seed 99", "html-&lt;test&gt;", "FAIL"} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "src=", "href=", "html-<test>"} {
		if strings.Contains(page, bad) {
			t.Errorf("report contains %q: not self-contained or not escaped", bad)
		}
	}
}
