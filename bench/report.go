package bench

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Scenario keys of the load table (issue 3).
const (
	NginxCache   = "a" // nginx proxy_cache hit, 1 KiB
	NginxProxy   = "b" // nginx proxy, no cache
	EdgeHit      = "c" // edge node hit, no function
	EdgeTrivial  = "d" // edge hit + trivial viewer-request through the sandbox
	EdgeInProc   = "e" // the same function in-process (benchmark-only runner)
	EdgeJWT      = "f" // edge hit + HS256 JWT check on edge.VerifyJWT (sandbox)
	EdgeMiss     = "g" // edge miss through the tuned transport
	ScenarioKeys = "abcdefg"
)

// ScenarioNames describes each scenario key.
var scenarioNames = map[string]string{
	NginxCache:  "nginx proxy_cache hit (1 KiB)",
	NginxProxy:  "nginx proxy, no cache",
	EdgeHit:     "edge hit, no function",
	EdgeTrivial: "edge hit + viewer-request add-header (sandbox)",
	EdgeInProc:  "edge hit + viewer-request add-header (in-process)",
	EdgeJWT:     "edge hit + viewer-request JWT HS256 (sandbox)",
	EdgeMiss:    "edge miss to origin (tuned transport)",
}

// ScenarioName returns the human name of a scenario key.
func ScenarioName(key string) string { return scenarioNames[key] }

// ratioTarget: RPS(row) >= Min * RPS(Of).
type ratioTarget struct {
	Of  string
	Min float64
}

var ratioTargets = map[string][]ratioTarget{
	EdgeHit:     {{NginxCache, 0.75}},
	EdgeTrivial: {{NginxCache, 0.4}},
	EdgeJWT:     {{NginxCache, 0.35}},
	EdgeMiss:    {{NginxProxy, 0.8}},
}

// informational ratios printed without a target.
var infoRatios = map[string][]string{
	EdgeInProc:  {NginxCache},
	EdgeTrivial: {EdgeInProc}, // the process hop's cost; its floor depends on the host
}

// Metric is a go test -bench figure with an upper bound (Max 0: informational).
type Metric struct {
	Name  string
	Bench string // benchmark name, e.g. "BenchmarkWarmWorker"
	Unit  string // metric unit, e.g. "p50-us"
	Max   float64
	Show  func(v float64) string
}

func showUS(v float64) string { return fmt.Sprintf("%.0f us", v) }
func showMS(v float64) string { return fmt.Sprintf("%.1f ms", v/1000) }
func showMB(v float64) string { return fmt.Sprintf("%.1f MB", v) }
func showNS(v float64) string { return fmt.Sprintf("%.1f us", v/1000) }

// Metrics are the go test -bench rows of the table, in order.
var Metrics = []Metric{
	{Name: "warm invocation p50 (worker, trivial fn)", Bench: "BenchmarkWarmWorker", Unit: "p50-us", Max: 100, Show: showUS},
	{Name: "warm invocation p99 (worker, trivial fn)", Bench: "BenchmarkWarmWorker", Unit: "p99-us", Show: showUS},
	{Name: "warm invocation p50 (in-process, trivial fn)", Bench: "BenchmarkWarmInProcess", Unit: "p50-us", Show: showUS},
	{Name: "cold start p50 (new worker+compile+1st call)", Bench: "BenchmarkColdStart", Unit: "p50-us", Max: 30000, Show: showMS},
	{Name: "worker RSS, one interpreter", Bench: "BenchmarkWorkerRSS", Unit: "RSS-MB", Max: 30, Show: showMB},
	{Name: "worker private memory, one interpreter", Bench: "BenchmarkWorkerRSS", Unit: "private-MB", Show: showMB},
	{Name: "HS256 verify per call, interpreted crypto", Bench: "BenchmarkHS256/interpreted", Unit: "verify-ns/op", Show: showNS},
	{Name: "HS256 verify per call, compiled edge.VerifyJWT", Bench: "BenchmarkHS256/compiled-helper", Unit: "verify-ns/op", Show: showNS},
	{Name: "HS256 verify per call, native Go (no interpreter)", Bench: "BenchmarkHS256/native", Unit: "ns/op", Show: showNS},
}

// Row is one line of the printed table.
type Row struct {
	Key, Scenario string
	RPS           string
	P50, P99      string
	Ratio         string
	Target        string
	Verdict       string // PASS, MISS, or "-" (informational / not measured)
}

// Report collects the measurements of one run.
type Report struct {
	// Loads holds load results by scenario key (the median round); a
	// missing key was skipped.
	Loads map[string]Result
	// Rounds holds every round's result by scenario key, in round order.
	// Rounds are interleaved (every scenario once per round), so a ratio
	// target compares two scenarios round by round: see ratio.
	Rounds map[string][]Result
	// Skipped gives the reason a scenario was not measured.
	Skipped map[string]string
	// Go holds the parsed go test -bench output (nil: not run).
	Go GoBench
	// AB compares the edge scenarios on two node binaries (Config.EdgeBinB;
	// empty without one), and ABNames names them (A first).
	AB      []ABRow
	ABNames [2]string
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fus", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// Rows evaluates the report against the targets.
func (r Report) Rows() []Row {
	var rows []Row
	for _, k := range strings.Split(ScenarioKeys, "") {
		row := Row{Key: k, Scenario: k + ". " + scenarioNames[k], RPS: "-", P50: "-", P99: "-", Ratio: "-", Target: "-", Verdict: "-"}
		res, ok := r.Loads[k]
		if !ok {
			if why := r.Skipped[k]; why != "" {
				row.Ratio = "skipped: " + why
			}
		} else {
			row.RPS = fmt.Sprintf("%.0f", res.RPS)
			row.P50, row.P99 = fmtDur(res.P50), fmtDur(res.P99)
		}
		var ratios, targets []string
		verdict := ""
		for _, t := range ratioTargets[k] {
			targets = append(targets, fmt.Sprintf(">= %.2fx %s", t.Min, t.Of))
			base, okBase := r.Loads[t.Of]
			if !ok || !okBase || base.RPS <= 0 {
				continue
			}
			q, ofMedians, paired := r.ratio(k, t.Of)
			ratios = append(ratios, showRatio(q, ofMedians, paired, t.Of))
			if q >= t.Min && verdict != "MISS" {
				verdict = "PASS"
			} else {
				verdict = "MISS"
			}
			if !r.valid(k) || !r.valid(t.Of) {
				verdict = "MISS"
			}
		}
		for _, of := range infoRatios[k] {
			if base, okBase := r.Loads[of]; ok && okBase && base.RPS > 0 {
				q, ofMedians, paired := r.ratio(k, of)
				ratios = append(ratios, showRatio(q, ofMedians, paired, of))
			}
		}
		if ok && !r.valid(k) {
			non2xx, errs := r.failures(k)
			ratios = append(ratios, fmt.Sprintf("INVALID: %d non-2xx, %d errors", non2xx, errs))
		}
		if len(ratios) > 0 {
			row.Ratio = strings.Join(ratios, ", ")
		}
		if len(targets) > 0 {
			row.Target = strings.Join(targets, ", ")
		}
		if verdict != "" {
			row.Verdict = verdict
		}
		rows = append(rows, row)
	}
	for _, m := range Metrics {
		row := Row{Scenario: m.Name, RPS: "", P50: "-", P99: "", Ratio: "", Target: "-", Verdict: "-"}
		if m.Max > 0 {
			row.Target = "<= " + m.Show(m.Max)
		}
		if v, ok := r.Go.Get(m.Bench, m.Unit); ok {
			row.P50 = m.Show(v)
			if m.Max > 0 {
				row.Verdict = "PASS"
				if v > m.Max {
					row.Verdict = "MISS"
				}
			}
		} else if r.Go == nil {
			row.Ratio = "skipped"
		} else {
			row.Ratio = "not reported"
		}
		rows = append(rows, row)
	}
	return rows
}

// ratio returns req/s of scenario k over req/s of scenario of, as the
// targets read it. When both were measured in the same rounds, q is the
// median of the per-round ratios (paired): the machine's speed drifts
// from one round to the next (by 20% and more on a shared VM), and two
// scenarios measured seconds apart in one round see the same machine,
// while the medians of two scenarios may come from different rounds.
// Otherwise q is the ratio of the medians. ofMedians is always the ratio
// of the medians (Loads). Like Median, an even count takes the lower
// middle ratio.
func (r Report) ratio(k, of string) (q, ofMedians float64, paired bool) {
	ofMedians = r.Loads[k].RPS / r.Loads[of].RPS
	a, b := r.Rounds[k], r.Rounds[of]
	qs := roundRatios(a, b)
	if len(a) == 0 || len(a) != len(b) || len(qs) != len(a) {
		return ofMedians, ofMedians, false
	}
	slices.Sort(qs)
	return qs[(len(qs)-1)/2], ofMedians, true
}

// showRatio renders a ratio for the table; a paired ratio also shows the
// ratio of the medians when the two differ at the printed precision.
func showRatio(q, ofMedians float64, paired bool, of string) string {
	s := fmt.Sprintf("%.2fx %s", q, of)
	if m := fmt.Sprintf("%.2fx", ofMedians); paired && m != fmt.Sprintf("%.2fx", q) {
		s += " (medians " + m + ")"
	}
	return s
}

// roundsOf returns scenario k's results: every round, or its median
// result alone when the report has no rounds.
func (r Report) roundsOf(k string) []Result {
	if rs := r.Rounds[k]; len(rs) > 0 {
		return rs
	}
	return []Result{r.Loads[k]}
}

// valid reports whether every round of scenario k measured the scenario
// (validResult). A ratio is paired over all rounds, so one round of fast
// error answers would skew it even when it is not the median.
func (r Report) valid(k string) bool {
	for _, x := range r.roundsOf(k) {
		if !validResult(x) {
			return false
		}
	}
	return true
}

// failures sums the error responses and socket errors of scenario k over
// its rounds.
func (r Report) failures(k string) (non2xx, errs int64) {
	for _, x := range r.roundsOf(k) {
		non2xx += x.Non2xx
		errs += x.Errors
	}
	return non2xx, errs
}

// validResult: a run with error responses or socket errors above 0.1% of
// its requests measured something else than the scenario.
func validResult(r Result) bool {
	return r.Requests > 0 && (r.Non2xx+r.Errors)*1000 <= r.Requests
}

// WriteTable prints the rows as an aligned text table.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\treq/s\tp50\tp99\tratio\ttarget\tresult")
	for _, row := range r.Rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", row.Scenario, row.RPS, row.P50, row.P99, row.Ratio, row.Target, row.Verdict)
	}
	return tw.Flush()
}

// WriteMarkdown prints the rows as a Markdown table (docs/performance.md).
func (r Report) WriteMarkdown(w io.Writer) error {
	if _, err := fmt.Fprintln(w, "| scenario | req/s | p50 | p99 | ratio | target | result |\n|---|---:|---:|---:|---|---|---|"); err != nil {
		return err
	}
	for _, row := range r.Rows() {
		if _, err := fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", row.Scenario, row.RPS, row.P50, row.P99, row.Ratio, row.Target, row.Verdict); err != nil {
			return err
		}
	}
	return nil
}

// Median returns the run with the median req/s (the lower middle one for an
// even count); the zero Result for none.
func Median(rs []Result) Result {
	if len(rs) == 0 {
		return Result{}
	}
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b Result) int { return cmp.Compare(a.RPS, b.RPS) })
	return s[(len(s)-1)/2]
}

// WriteCPU prints where the CPU went in each load scenario's median round:
// per request, the server's main process, its helpers (sandbox workers,
// nginx workers), the load generator, and the share of the machine left
// idle. Nothing when no round was accounted.
//
// These explain the ratios: on a small machine the load generator, the
// node and the workers share the same CPUs, so a scenario's req/s follows
// its total CPU per request and how much of the machine it leaves idle.
func (r Report) WriteCPU(w io.Writer) error {
	var rows [][5]string
	for _, k := range strings.Split(ScenarioKeys, "") {
		res, ok := r.Loads[k]
		if !ok || res.CPU == (CPUUse{}) {
			continue
		}
		c := res.CPU
		rows = append(rows, [5]string{k + ". " + scenarioNames[k],
			perRequest(c.Server, res.Requests), perRequest(c.Helpers, res.Requests), perRequest(c.Load, res.Requests),
			fmt.Sprintf("%.0f%%", 100*c.Idle)})
	}
	if len(rows) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nCPU per request (median round; utime+stime from /proc)")
	fmt.Fprintln(tw, "scenario\tserver\thelpers (workers)\tload generator\tmachine idle")
	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", row[0], row[1], row[2], row[3], row[4])
	}
	return tw.Flush()
}
