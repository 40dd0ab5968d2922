package scenario

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const minimal = `
name: ok
load: {rate: 10, duration: 2s}
steps:
  - {at: 1s, action: kill, name: k, target: "node:@us-east-1"}
  - {at: 2s, action: heal, faults: [k]}
invariants: [{name: no-lost-requests}, {name: converge}]
`

func TestParseDefaults(t *testing.T) {
	sc, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Target != TargetAny || sc.Load.Requests != 20 || sc.Invariants[1].Within.D() != DefaultConvergeWithin {
		t.Fatalf("defaults not applied: %+v %+v", sc, sc.Load)
	}
	if sc.Steps[0].Expect != ExpectSuccess || sc.Steps[0].FaultKind() != "kill" || sc.End() != 2*time.Second {
		t.Fatalf("step defaults: %+v", sc.Steps[0])
	}
	if sc.RunTimeout() != 2*time.Second+2*time.Minute {
		t.Fatalf("RunTimeout = %s", sc.RunTimeout())
	}
}

func TestParseErrors(t *testing.T) {
	base := func(steps, invariants string) string {
		return "name: x\nload: {rate: 10, duration: 2s}\nsteps:\n" + steps + "invariants:\n" + invariants
	}
	inv := "  - name: converge\n"
	tests := []struct {
		name, in, want string
	}{
		{"not yaml", "{{{", "decoding"},
		{"unknown field", "name: x\nbogus: 1\nsteps: []\ninvariants: [{name: converge}]", "bogus"},
		{"duplicate field", "name: x\nname: y\nsteps: []\ninvariants: [{name: converge}]", "decoding"},
		{"bad duration", base("  - {at: soon, action: wait}\n", inv), "duration"},
		{"numeric duration", base("  - {at: 5, action: wait}\n", inv), "duration"},
		{"bad name", "name: Bad Name\nsteps: []\ninvariants: [{name: converge}]", "name"},
		{"bad target lab", "name: x\ntarget: k8s\nsteps: []\ninvariants: [{name: converge}]", "target"},
		{"unbounded load", "name: x\nload: {rate: 10}\nsteps: []\ninvariants: [{name: converge}]", "load.duration"},
		{"zero rate", "name: x\nload: {rate: 0, duration: 1s}\nsteps: []\ninvariants: [{name: converge}]", "load.rate"},
		{"huge rate", "name: x\nload: {rate: 1e9, duration: 1s}\nsteps: []\ninvariants: [{name: converge}]", "load.rate"},
		{"bad path", "name: x\nload: {rate: 1, duration: 1s, paths: [\"http://evil/\"]}\nsteps: []\ninvariants: [{name: converge}]", "load.paths[0]"},
		{"no invariants", "name: x\nsteps: []\ninvariants: []", "at least one invariant"},
		{"unknown invariant", base("", "  - name: linearizable\n"), "unknown invariant"},
		{"rec-failover without rec", base("", "  - name: rec-failover\n"), "rec \"\": required"},
		{"rec-failover negative within", base("", "  - {name: rec-failover, rec: us-east-1, within: -1s}\n"), "within must not be negative"},
		{"load invariant without load", "name: x\nsteps: []\ninvariants: [{name: no-lost-requests}]", "needs load"},
		{"unknown action", base("  - {action: explode}\n", inv), "action \"explode\""},
		{"kill without target", base("  - {action: kill}\n", inv), "steps[0] (at 0s, kill): target"},
		{"bad target kind", base("  - {action: kill, target: \"pod:x\"}\n", inv), "target"},
		{"unknown fault kind", base("  - {action: fault, kind: meteor, target: \"node:a\"}\n", inv), "kind \"meteor\""},
		{"latency fault without latency", base("  - {action: fault, kind: origin-latency, target: \"origin:web\"}\n", inv), "latency > 0"},
		{"rate out of range", base("  - {action: fault, kind: origin-errors, target: \"origin:web\", rate: 2}\n", inv), "rate"},
		{"direction on kill", base("  - {action: kill, target: \"node:a\", direction: both}\n", inv), "direction is only for partition"},
		{"steps out of order", base("  - {at: 2s, action: wait}\n  - {at: 1s, action: wait}\n", inv), "time order"},
		{"negative at", base("  - {at: -1s, action: wait}\n", inv), "negative"},
		{"heal unknown fault", base("  - {action: heal, faults: [nope]}\n", inv), "names no earlier fault"},
		{"duplicate step name", base("  - {action: kill, name: a, target: \"node:a\"}\n  - {action: kill, name: a, target: \"node:b\"}\n", inv), "used twice"},
		{"publish without source", base("  - {action: publish, function: f}\n", inv), "source"},
		{"publish too many", base("  - {action: publish, function: f, source: x, count: 100000}\n", inv), "count"},
		{"apply bad event", base("  - {action: apply, distribution: d, function: f, event: on-click}\n", inv), "event"},
		{"apply bad version", base("  - {action: apply, distribution: d, function: f, event: viewer-request, version: \"-3\"}\n", inv), "version"},
		{"wait deployed without distribution", base("  - {action: wait, for: deployed}\n", inv), "distribution"},
		{"wait for nonsense", base("  - {action: wait, for: godot}\n", inv), "for \"godot\""},
		{"bad expect", base("  - {action: wait, expect: maybe}\n", inv), "expect"},
		{"setup with at", "name: x\nsetup: [{at: 1s, action: wait}]\nsteps: []\ninvariants: [{name: converge}]", "setup[0]"},
		{"mixed window empty", "name: x\nload: {rate: 1, duration: 1s}\nsteps: []\ninvariants: [{name: mixed-versions, function: f, from: 2s, to: 1s}]", "from < to"},
		{"overflowing burst", base("  - {action: publish, function: f, source: x, count: 1000, every: 1000000h}\n", inv), "too long"},
		{"too big", strings.Repeat("#", MaxFileSize+1), "exceeds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestValidationErrorListsAll(t *testing.T) {
	_, err := Parse([]byte("name: x\nsteps:\n  - {action: kill}\n  - {action: explode}\ninvariants: []"))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte("name: x\nsteps: [{action: publish, function: f, source: s, count: 3, every: 1s}]\ninvariants: [{name: durable-acks}]"))
	f.Add([]byte("name: x\nload: {rate: 1, duration: 1h}\nsteps: []\ninvariants: [{name: single-version, function: f}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse(data)
		if err != nil {
			return
		}
		if sc.Name == "" || len(sc.Invariants) == 0 {
			t.Fatalf("accepted scenario without name or invariants: %q", data)
		}
		if sc.Load != nil && (sc.Load.Requests <= 0 || sc.Load.Duration <= 0) {
			t.Fatalf("accepted unbounded load: %+v", sc.Load)
		}
		for _, s := range sc.Steps {
			if s.At < 0 || s.Expect == "" {
				t.Fatalf("bad step accepted: %+v", s)
			}
		}
		if sc.RunTimeout() <= 0 {
			t.Fatalf("non-positive run timeout for %q", data)
		}
	})
}

func TestParseRECFailoverDefaults(t *testing.T) {
	sc, err := Parse([]byte(strings.Replace(minimal, "{name: converge}", "{name: rec-failover, rec: us-east-1}", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if inv := sc.Invariants[1]; inv.REC != "us-east-1" || inv.Within.D() != DefaultRECFailoverWithin {
		t.Fatalf("rec-failover = %+v, want rec us-east-1 within %s", inv, DefaultRECFailoverWithin)
	}
}
