package bench

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// rps turns req/s figures into round results.
func rps(vs ...float64) []Result {
	rs := make([]Result, len(vs))
	for i, v := range vs {
		rs[i] = Result{RPS: v}
	}
	return rs
}

func TestABRowMeanRatio(t *testing.T) {
	for _, tc := range []struct {
		name string
		row  ABRow
		want float64
	}{
		{"per round, not of medians", ABRow{A: rps(110, 60), B: rps(100, 50)}, (1.1 + 1.2) / 2},
		{"unequal lengths use the rounds both ran", ABRow{A: rps(200, 300, 999), B: rps(100, 300)}, 1.5},
		{"a zero B round is skipped", ABRow{A: rps(10, 30), B: rps(0, 15)}, 2},
		{"nothing to compare", ABRow{A: rps(1)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.row.MeanRatio(); math.Abs(got-tc.want) > 1e-9 {
				t.Fatalf("MeanRatio = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestABOrderSwapsPairsEveryOtherRound(t *testing.T) {
	ts := []target{{key: "a"}, {key: "c"}, {key: "c" + BSuffix}, {key: "d"}, {key: "d" + BSuffix}, {key: "e"}}
	keys := func(ts []target) string {
		var ks []string
		for _, t := range ts {
			ks = append(ks, t.key)
		}
		return strings.Join(ks, " ")
	}
	if got, want := keys(abOrder(ts, 1)), "a c c/B d d/B e"; got != want {
		t.Fatalf("round 1: %s, want %s", got, want)
	}
	if got, want := keys(abOrder(ts, 2)), "a c/B c d/B d e"; got != want {
		t.Fatalf("round 2: %s, want %s", got, want)
	}
	if got, want := keys(abOrder(ts, 3)), "a c c/B d d/B e"; got != want {
		t.Fatalf("round 3: %s, want %s", got, want)
	}
	if keys(ts) != "a c c/B d d/B e" {
		t.Fatal("abOrder modified its input")
	}
}

func TestWriteAB(t *testing.T) {
	var buf bytes.Buffer
	if err := (Report{}).WriteAB(&buf); err != nil || buf.Len() != 0 {
		t.Fatalf("no A/B: wrote %q, %v", buf.String(), err)
	}
	rep := Report{
		ABNames: [2]string{"new/edgenode", "old/edgenode"},
		AB:      []ABRow{{Key: EdgeTrivial, A: rps(110, 99, 120), B: rps(100, 90, 100)}},
	}
	if err := rep.WriteAB(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"A = new/edgenode, B = old/edgenode", "d. edge hit + viewer-request add-header (sandbox)",
		"110 99 120", "100 90 100", "1.133"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The main table is unchanged by B results.
	rep.Loads = map[string]Result{EdgeTrivial: {RPS: 110, Requests: 10}, EdgeTrivial + BSuffix: {RPS: 100, Requests: 10}}
	for _, row := range rep.Rows() {
		if strings.Contains(row.Scenario, BSuffix) {
			t.Fatalf("B scenario in the main table: %+v", row)
		}
	}
}
