package invariant

import (
	"sort"
	"time"

	"github.com/edgelab/edgelab/chaos/history"
)

// RECSlow is one interval during which a regional edge cache answered
// every tier request Latency late (the tier-latency fault).
type RECSlow struct {
	// REC is the cache's name as X-Edgelab-Rec spells it (us-east-1).
	REC string `json:"rec"`
	history.Window
	Latency time.Duration `json:"latency"`
}

// RECSlowedParams bounds the rec-slowed check.
type RECSlowedParams struct {
	// Within is how long the fault may take to reach the REC (and to leave
	// it): requests started in that time after From are not judged.
	Within time.Duration
}

// flightSlack is how close the ends of requests of one PoP and path must
// be for RECSlowed to take them as one collapsed flight to the REC.
const flightSlack = 20 * time.Millisecond

// RECSlowed checks that a REC's injected delay shows in the requests it
// answered. A PoP collapses concurrent misses of one object into one
// request to the REC, so a viewer request that joined a flight late waits
// only for its rest: requests of one PoP and path whose ends lie within
// flightSlack are one flight, and the flight is judged by its first
// request. Every flight whose first request started from From+Within until
// Latency before To (so all of the delay falls in the fault) took at least
// Latency from that start to its end. A fault with no such flight proves
// nothing and is a violation. Only the lower bound is judged: a loaded host
// makes requests slower, never faster.
func RECSlowed(reqs []history.Request, slows []RECSlow, p RECSlowedParams) Result {
	res := newResult(NameRECSlowed)
	for _, s := range slows {
		res.Checked++
		w := history.Window{From: s.From.Add(p.Within), To: s.To.Add(-s.Latency)}
		judged := 0
		for _, f := range flights(reqs, s.REC) {
			if !w.Contains(f.first.Start) {
				continue
			}
			judged++
			if took := f.end.Sub(f.first.Start); took < s.Latency {
				res.violateAt(f.first.Start, "REC %s answered %s %s through %s at %s in %s (%d viewer requests), under its injected %s",
					s.REC, f.first.Method, f.first.Path, f.first.Pop, f.first.Start.Format(time.RFC3339Nano), took.Round(time.Millisecond), f.n, s.Latency)
			}
		}
		if judged == 0 {
			res.violateAt(w.From, "no request answered by REC %s started between %s and %s: nothing shows its %s delay",
				s.REC, w.From.Format(time.RFC3339Nano), w.To.Format(time.RFC3339Nano), s.Latency)
			continue
		}
		res.note("REC %s: %d flights to it during its %s delay, each at least that slow", s.REC, judged, s.Latency)
	}
	return res
}

// flight is one collapsed request from a PoP to a REC: the viewer request
// that started first, when the last ended, and how many there were.
type flight struct {
	first history.Request
	end   time.Time
	n     int
}

// flights groups the answered requests rec answered into flights.
func flights(reqs []history.Request, rec string) []flight {
	var via []history.Request
	for _, r := range reqs {
		if answered(r) && r.Rec == rec {
			via = append(via, r)
		}
	}
	sort.Slice(via, func(i, j int) bool {
		a, b := via[i], via[j]
		if a.Pop != b.Pop || a.Path != b.Path {
			return a.Pop+" "+a.Path < b.Pop+" "+b.Path
		}
		return a.End.Before(b.End)
	})
	var out []flight
	for i, r := range via {
		if i > 0 {
			last := &out[len(out)-1]
			if prev := via[i-1]; prev.Pop == r.Pop && prev.Path == r.Path && r.End.Sub(prev.End) <= flightSlack {
				last.n++
				last.end = r.End
				if r.Start.Before(last.first.Start) {
					last.first = r
				}
				continue
			}
		}
		out = append(out, flight{first: r, end: r.End, n: 1})
	}
	return out
}
