package bench

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

func res(rps float64) Result {
	return Result{RPS: rps, P50: time.Millisecond, P99: 3 * time.Millisecond, Requests: int64(rps * 10)}
}

func rowByKey(t *testing.T, rows []Row, key string) Row {
	t.Helper()
	for _, r := range rows {
		if r.Key == key {
			return r
		}
	}
	t.Fatalf("no row %s", key)
	return Row{}
}

func TestReportVerdicts(t *testing.T) {
	bad := res(90000)
	bad.Non2xx = bad.Requests / 2
	for _, tc := range []struct {
		name    string
		loads   map[string]Result
		key     string
		verdict string
		ratio   string
	}{
		{"hit passes", map[string]Result{NginxCache: res(80000), EdgeHit: res(60000)}, EdgeHit, "PASS", "0.75x a"},
		{"hit misses", map[string]Result{NginxCache: res(80000), EdgeHit: res(59000)}, EdgeHit, "MISS", "0.74x a"},
		{"no baseline", map[string]Result{EdgeHit: res(60000)}, EdgeHit, "-", "-"},
		{"trivial both pass", map[string]Result{NginxCache: res(80000), EdgeInProc: res(40000), EdgeTrivial: res(33000)}, EdgeTrivial, "PASS", "0.41x a, 0.82x e"},
		{"trivial vs in-process shown, no target", map[string]Result{NginxCache: res(80000), EdgeInProc: res(50000), EdgeTrivial: res(33000)}, EdgeTrivial, "PASS", "0.41x a, 0.66x e"},
		{"trivial fails vs nginx only", map[string]Result{NginxCache: res(100000), EdgeInProc: res(33000), EdgeTrivial: res(33000)}, EdgeTrivial, "MISS", "0.33x a, 1.00x e"},
		{"error responses invalidate", map[string]Result{NginxCache: res(80000), EdgeHit: bad}, EdgeHit, "MISS", "1.12x a, INVALID"},
		{"miss vs proxy", map[string]Result{NginxProxy: res(20000), EdgeMiss: res(16000)}, EdgeMiss, "PASS", "0.80x b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			row := rowByKey(t, Report{Loads: tc.loads}.Rows(), tc.key)
			if row.Verdict != tc.verdict || !strings.HasPrefix(row.Ratio, tc.ratio) {
				t.Fatalf("verdict %q ratio %q, want %q %q", row.Verdict, row.Ratio, tc.verdict, tc.ratio)
			}
		})
	}
}

func TestReportMetricsAndSkips(t *testing.T) {
	rep := Report{
		Loads:   map[string]Result{},
		Skipped: map[string]string{NginxCache: "nginx not installed"},
		Go: GoBench{
			"BenchmarkWarmWorker": {"p50-us": 120, "p99-us": 300},
			"BenchmarkColdStart":  {"p50-us": 20000},
			"BenchmarkWorkerRSS":  {"RSS-MB": 24},
		},
	}
	rows := rep.Rows()
	if r := rowByKey(t, rows, NginxCache); !strings.Contains(r.Ratio, "skipped: nginx not installed") {
		t.Errorf("skip reason not shown: %+v", r)
	}
	want := map[string]string{
		"warm invocation p50 (worker, trivial fn)":     "MISS",
		"cold start p50 (new worker+compile+1st call)": "PASS",
		"worker RSS, one interpreter":                  "PASS",
		"warm invocation p99 (worker, trivial fn)":     "-",
	}
	for _, r := range rows {
		if v, ok := want[r.Scenario]; ok {
			if r.Verdict != v {
				t.Errorf("%s: %s, want %s", r.Scenario, r.Verdict, v)
			}
			delete(want, r.Scenario)
		}
	}
	if len(want) != 0 {
		t.Errorf("rows missing: %v", want)
	}
	var tbl, md bytes.Buffer
	if err := rep.WriteTable(&tbl); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tbl.String(), "20.0 ms") || !strings.Contains(md.String(), "| cold start p50") {
		t.Fatalf("table:\n%s\nmarkdown:\n%s", tbl.String(), md.String())
	}
	if n := strings.Count(md.String(), "\n"); n != len(rows)+2 {
		t.Errorf("markdown has %d lines, want %d", n, len(rows)+2)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		rps  []float64
		want float64
	}{{nil, 0}, {[]float64{5}, 5}, {[]float64{9, 1, 5}, 5}, {[]float64{4, 1, 3, 2}, 2}} {
		var rs []Result
		for _, v := range tc.rps {
			rs = append(rs, res(v))
		}
		if got := Median(rs).RPS; got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.rps, got, tc.want)
		}
	}
}

// rounds builds per-round results from req/s figures.
func rounds(rps ...float64) []Result {
	rs := make([]Result, len(rps))
	for i, v := range rps {
		rs[i] = res(v)
	}
	return rs
}

// TestReportPairedRatios: with rounds, a target compares the scenarios
// round by round. The figures are the shape of a real run on a drifting
// VM (2026-11-30): nginx 53.6k, 47.3k, 53.4k and the JWT scenario 18.3k,
// 17.6k, 21.7k. The medians (53.4k, 18.3k) come from different rounds and
// give 0.34x; the rounds give 0.34x, 0.37x and 0.41x.
func TestReportPairedRatios(t *testing.T) {
	a, f := rounds(53582, 47253, 53435), rounds(18313, 17559, 21724)
	rep := Report{
		Loads:  map[string]Result{NginxCache: Median(a), EdgeJWT: Median(f)},
		Rounds: map[string][]Result{NginxCache: a, EdgeJWT: f},
	}
	row := rowByKey(t, rep.Rows(), EdgeJWT)
	if row.Verdict != "PASS" || row.Ratio != "0.37x a (medians 0.34x)" {
		t.Fatalf("paired: verdict %q ratio %q, want PASS \"0.37x a (medians 0.34x)\"", row.Verdict, row.Ratio)
	}

	// Pairing cuts both ways: a scenario whose best round met the
	// baseline's slow round misses, although its median over the
	// baseline's median would pass.
	c, hit := rounds(50000, 80000, 90000), rounds(63000, 58400, 66000)
	rep = Report{
		Loads:  map[string]Result{NginxCache: Median(c), EdgeHit: Median(hit)},
		Rounds: map[string][]Result{NginxCache: c, EdgeHit: hit},
	}
	row = rowByKey(t, rep.Rows(), EdgeHit)
	if row.Verdict != "MISS" || row.Ratio != "0.73x a (medians 0.79x)" {
		t.Fatalf("paired miss: verdict %q ratio %q", row.Verdict, row.Ratio)
	}

	// Different round counts (a scenario failed in a later round) cannot
	// be paired: the ratio of the medians decides, shown alone.
	rep.Rounds[EdgeHit] = hit[:2]
	row = rowByKey(t, rep.Rows(), EdgeHit)
	if row.Ratio != "0.79x a" || row.Verdict != "PASS" {
		t.Fatalf("unpaired: verdict %q ratio %q", row.Verdict, row.Ratio)
	}

	// An even count takes the lower middle ratio, as Median does.
	e, d := rounds(40000, 40000, 40000, 40000), rounds(30000, 31000, 33000, 36000)
	rep = Report{
		Loads:  map[string]Result{NginxCache: res(60000), EdgeInProc: Median(e), EdgeTrivial: Median(d)},
		Rounds: map[string][]Result{EdgeInProc: e, EdgeTrivial: d},
	}
	row = rowByKey(t, rep.Rows(), EdgeTrivial)
	if !strings.Contains(row.Ratio, "0.78x e") || row.Verdict != "PASS" {
		t.Fatalf("even count: verdict %q ratio %q", row.Verdict, row.Ratio)
	}
}

// TestReportInvalidRound: one round of error answers invalidates the row
// even when the median round is clean, and the label counts every round.
func TestReportInvalidRound(t *testing.T) {
	a, hit := rounds(60000, 60000, 60000), rounds(50000, 51000, 90000)
	hit[2].Non2xx = hit[2].Requests / 3 // a round of fast 503s: the best req/s
	rep := Report{
		Loads:  map[string]Result{NginxCache: Median(a), EdgeHit: Median(hit)},
		Rounds: map[string][]Result{NginxCache: a, EdgeHit: hit},
	}
	if !validResult(rep.Loads[EdgeHit]) {
		t.Fatal("the median round must be the clean 51k one for this test")
	}
	row := rowByKey(t, rep.Rows(), EdgeHit)
	want := fmt.Sprintf("INVALID: %d non-2xx, 0 errors", hit[2].Non2xx)
	if row.Verdict != "MISS" || !strings.Contains(row.Ratio, want) {
		t.Fatalf("verdict %q ratio %q, want MISS and %q", row.Verdict, row.Ratio, want)
	}
}
