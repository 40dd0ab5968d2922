package invariant

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/edgelab/edgelab/chaos/history"
)

// RECDown is one interval during which a regional edge cache was
// deliberately out of service (killed, stopped or paused).
type RECDown struct {
	// REC is the cache's name as X-Edgelab-Rec spells it (us-east-1).
	REC string `json:"rec"`
	history.Window
}

// RECFailoverParams bounds the REC failover check.
type RECFailoverParams struct {
	// Within is how long after the REC went down, and after it came back,
	// PoPs may still be moving: requests started in that time are not
	// judged.
	Within time.Duration
}

// RECFailover checks from the responses' X-Edgelab-Rec headers that the
// PoPs whose misses a REC answered move to another REC while it is down,
// and come back to it after. For each outage:
//
//   - before it, some PoP's misses were answered by the REC (without that
//     the check proves nothing, so it is a violation);
//   - from From+Within to To, no response names the REC;
//   - every PoP that used the REC before has, in that time, a response
//     answered by another REC, and no miss it answered without a REC (the
//     PoP went to the origin itself while other RECs were up);
//   - from To+Within on, when those PoPs' misses were answered by a REC at
//     all, the REC answered some of them again.
//
// Failed requests are no-lost-requests' concern: only answered ones (no
// transport error, status below 500) are judged here.
func RECFailover(reqs []history.Request, downs []RECDown, p RECFailoverParams) Result {
	res := newResult(NameRECFailover)
	for _, d := range downs {
		res.Checked++
		pops := popsUsing(reqs, d.REC, time.Time{}, d.From)
		if len(pops) == 0 {
			res.violateAt(d.From, "no response before REC %s went down at %s was answered by it: nothing shows the PoPs used it",
				d.REC, d.From.Format(time.RFC3339Nano))
			continue
		}
		checkOutage(&res, reqs, d, pops, p.Within)
		checkReturn(&res, reqs, d, pops, p.Within)
	}
	return res
}

// popsUsing lists the PoPs with an answered request started in [from, to)
// whose miss rec answered (from zero: since the start).
func popsUsing(reqs []history.Request, rec string, from, to time.Time) map[string]bool {
	pops := map[string]bool{}
	for _, r := range reqs {
		if answered(r) && r.Rec == rec && !r.Start.Before(from) && r.Start.Before(to) {
			pops[r.Pop] = true
		}
	}
	return pops
}

func answered(r history.Request) bool { return r.Err == "" && r.Status > 0 && r.Status < 500 }

// checkOutage judges the requests started in [From+within, To).
func checkOutage(res *Result, reqs []history.Request, d RECDown, pops map[string]bool, within time.Duration) {
	w := history.Window{From: d.From.Add(within), To: d.To}
	if !w.From.Before(w.To) {
		res.note("REC %s was down %s, not longer than the bound %s: its outage is not judged", d.REC, d.To.Sub(d.From).Round(time.Millisecond), within)
		return
	}
	moved := map[string]map[string]int{} // PoP -> REC -> answered misses
	for _, r := range reqs {
		if !answered(r) || !w.Contains(r.Start) {
			continue
		}
		switch {
		case r.Rec == d.REC:
			res.violateAt(r.Start, "REC %s answered %s %s through %s at %s, %s after it went down",
				d.REC, r.Method, r.Path, r.Pop, r.Start.Format(time.RFC3339Nano), r.Start.Sub(d.From).Round(time.Millisecond))
		case !pops[r.Pop]:
		case r.Rec != "":
			if moved[r.Pop] == nil {
				moved[r.Pop] = map[string]int{}
			}
			moved[r.Pop][r.Rec]++
		case strings.HasPrefix(r.XCache, "Miss"):
			res.violateAt(r.Start, "PoP %s answered a miss of %s %s at %s without a REC while REC %s was down: it went to the origin instead of the next REC",
				r.Pop, r.Method, r.Path, r.Start.Format(time.RFC3339Nano), d.REC)
		}
	}
	for _, pop := range sortedPops(pops) {
		if len(moved[pop]) == 0 {
			res.violateAt(w.From, "PoP %s used REC %s before it went down, but no miss of it was answered by another REC while it was down (%s to %s)",
				pop, d.REC, w.From.Format(time.RFC3339Nano), w.To.Format(time.RFC3339Nano))
			continue
		}
		res.note("PoP %s: misses answered by %s while REC %s was down", pop, countsByREC(moved[pop]), d.REC)
	}
}

// checkReturn judges the requests started from To+within on.
func checkReturn(res *Result, reqs []history.Request, d RECDown, pops map[string]bool, within time.Duration) {
	from := d.To.Add(within)
	viaREC := 0
	for _, r := range reqs {
		if answered(r) && pops[r.Pop] && r.Rec != "" && !r.Start.Before(from) {
			viaREC++
		}
	}
	if viaREC == 0 {
		return // the load ended before: nothing to judge
	}
	if back := popsUsing(reqs, d.REC, from, time.Unix(1<<40, 0)); len(back) == 0 {
		res.violateAt(from, "REC %s came back at %s, but none of the %d misses answered by a REC after %s was answered by it",
			d.REC, d.To.Format(time.RFC3339Nano), viaREC, from.Format(time.RFC3339Nano))
	}
}

// countsByREC formats per-REC counts as "eu-central-1: 100, us-west-2: 3".
func countsByREC(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for rec, n := range m {
		parts = append(parts, rec+": "+strconv.Itoa(n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func sortedPops(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
