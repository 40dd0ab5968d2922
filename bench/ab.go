package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// BSuffix marks the scenario keys measured on Config.EdgeBinB ("d/B").
const BSuffix = "/B"

// abScenarios are the scenarios run by the cmd/edgenode binary, the ones
// an A/B comparison measures twice (e runs on edgebench, a and b on nginx).
var abScenarios = []string{EdgeHit, EdgeTrivial, EdgeJWT, EdgeMiss}

// ABRow compares one scenario on two edge node binaries: the result of
// every round, in round order, on A (Config.EdgeBin) and B
// (Config.EdgeBinB).
type ABRow struct {
	Key  string
	A, B []Result
}

// MeanRatio is the mean of the per-round A/B ratios (rounds where both
// ran). Each round measures A and B back to back, so a ratio within a
// round is steadier than the ratio of two medians on a noisy machine.
// 0 when no round has both.
func (r ABRow) MeanRatio() float64 {
	qs := roundRatios(r.A, r.B)
	if len(qs) == 0 {
		return 0
	}
	var sum float64
	for _, q := range qs {
		sum += q
	}
	return sum / float64(len(qs))
}

// roundRatios returns a[i].RPS / b[i].RPS for every round i both have,
// skipping rounds where b served nothing.
func roundRatios(a, b []Result) []float64 {
	var qs []float64
	for i := range min(len(a), len(b)) {
		if b[i].RPS > 0 {
			qs = append(qs, a[i].RPS/b[i].RPS)
		}
	}
	return qs
}

// abOrder returns the targets of one round: an A target and its B target
// (which follows it in ts) swap places every other round, so neither side
// always runs right after the other scenarios.
func abOrder(ts []target, round int) []target {
	out := slices.Clone(ts)
	if round%2 == 1 {
		return out
	}
	for i := 0; i+1 < len(out); i++ {
		if out[i+1].key == out[i].key+BSuffix {
			out[i], out[i+1] = out[i+1], out[i]
			i++
		}
	}
	return out
}

// WriteAB prints the A/B comparison (nothing when there is none).
func (r Report) WriteAB(w io.Writer) error {
	if len(r.AB) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nA/B: A = %s, B = %s\n", r.ABNames[0], r.ABNames[1])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tA req/s by round\tB req/s by round\tA median\tB median\tmean A/B per round")
	for _, row := range r.AB {
		fmt.Fprintf(tw, "%s. %s\t%s\t%s\t%.0f\t%.0f\t%.3f\n", row.Key, scenarioNames[row.Key],
			joinRPS(row.A), joinRPS(row.B), Median(row.A).RPS, Median(row.B).RPS, row.MeanRatio())
	}
	return tw.Flush()
}

func joinRPS(rs []Result) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%.0f", r.RPS)
	}
	return strings.Join(parts, " ")
}
