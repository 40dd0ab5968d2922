package invariant

import (
	"time"

	"github.com/edgelab/edgelab/chaos/history"
)

// EdgeDown is one interval during which an edge was deliberately out of
// service (killed, stopped, paused or failing its health check).
type EdgeDown struct {
	Edge string `json:"edge"`
	history.Window
}

// FailoverParams bounds failover.
type FailoverParams struct {
	// Within is how long after an edge went down the gateway may still
	// route to it (its health checks and passive ejection).
	Within time.Duration
	// MaxRetries bounds the gateway's retries (requests sent on to another
	// edge after one failed) over each outage.
	MaxRetries int64
}

// FailoverBound checks that after an edge dies, requests stop reaching it
// within p.Within, and the retries it causes are bounded: no request is
// answered by the edge, and no gateway sample shows it healthy, from
// From+Within to the end of the outage; and the gateway's retry counter
// grows by at most p.MaxRetries from the outage's start to its end. Retries
// hide a gateway that keeps a dead edge in rotation: every request then
// succeeds after a retry, so only the counter shows it.
func FailoverBound(reqs []history.Request, samples []history.GatewaySample, downs []EdgeDown, p FailoverParams) Result {
	res := newResult(NameFailoverBound)
	for _, d := range downs {
		res.Checked++
		bound := d.From.Add(p.Within)
		if !bound.Before(d.To) {
			continue // the outage was shorter than the bound: nothing to judge
		}
		for _, r := range reqs {
			if r.ServedBy() == d.Edge && r.Err == "" && r.Start.After(bound) && r.End.Before(d.To) {
				res.violateAt(r.Start, "edge %s answered %s %s at %s, %s after it went down (bound %s)",
					d.Edge, r.Method, r.Path, r.Start.Format(time.RFC3339Nano), r.Start.Sub(d.From).Round(time.Millisecond), p.Within)
				break
			}
		}
		if len(samples) > 0 && !sampledDuring(samples, bound, d.To) {
			res.violate("no gateway sample while edge %s was down after the bound: its rotation cannot be judged", d.Edge)
		}
		for _, s := range samples {
			if s.Time.After(bound) && s.Time.Before(d.To) && s.Healthy[d.Edge] {
				res.violateAt(s.Time, "gateway still had edge %s in rotation at %s, %s after it went down (bound %s)",
					d.Edge, s.Time.Format(time.RFC3339Nano), s.Time.Sub(d.From).Round(time.Millisecond), p.Within)
				break
			}
		}
		if n, ok := retriesDuring(samples, d.Window); ok && n > p.MaxRetries {
			res.violateAt(d.To, "gateway retried %d requests while edge %s was down (%s), bound %d",
				n, d.Edge, d.To.Sub(d.From).Round(time.Millisecond), p.MaxRetries)
		}
	}
	return res
}

func sampledDuring(samples []history.GatewaySample, from, to time.Time) bool {
	for _, s := range samples {
		if s.Time.After(from) && s.Time.Before(to) {
			return true
		}
	}
	return false
}

// retriesDuring is the growth of the retry counter between the last sample
// at or before w.From and the first sample at or after w.To.
func retriesDuring(samples []history.GatewaySample, w history.Window) (int64, bool) {
	var before, after *history.GatewaySample
	for i := range samples {
		s := &samples[i]
		if !s.Time.After(w.From) {
			before = s
		}
		if !s.Time.Before(w.To) && after == nil {
			after = s
		}
	}
	if before == nil || after == nil || before.Retries < 0 || after.Retries < 0 {
		return 0, false // no counter: retries are not judged
	}
	return after.Retries - before.Retries, true
}
