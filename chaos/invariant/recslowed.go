package invariant

import (
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

// RECSlowed checks that a REC's injected delay shows in the requests it
// answered: every answered request whose miss the REC answered, started
// from From+Within until Latency before To (so all of the delay falls in
// the fault), took at least Latency end to end. A fault with no such
// request proves nothing and is a violation. Only the lower bound is
// judged: a loaded host makes requests slower, never faster.
func RECSlowed(reqs []history.Request, slows []RECSlow, p RECSlowedParams) Result {
	res := newResult(NameRECSlowed)
	for _, s := range slows {
		res.Checked++
		w := history.Window{From: s.From.Add(p.Within), To: s.To.Add(-s.Latency)}
		judged := 0
		for _, r := range reqs {
			if !answered(r) || r.Rec != s.REC || !w.Contains(r.Start) {
				continue
			}
			judged++
			if took := r.End.Sub(r.Start); took < s.Latency {
				res.violateAt(r.Start, "REC %s answered %s %s through %s at %s in %s, under its injected %s",
					s.REC, r.Method, r.Path, r.Pop, r.Start.Format(time.RFC3339Nano), took.Round(time.Millisecond), s.Latency)
			}
		}
		if judged == 0 {
			res.violateAt(w.From, "no request answered by REC %s started between %s and %s: nothing shows its %s delay",
				s.REC, w.From.Format(time.RFC3339Nano), w.To.Format(time.RFC3339Nano), s.Latency)
			continue
		}
		res.note("REC %s: %d answers during its %s delay, each at least that slow", s.REC, judged, s.Latency)
	}
	return res
}
