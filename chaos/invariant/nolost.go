package invariant

import (
	"time"

	"github.com/edgelab/edgelab/chaos/history"
)

// NoLostParams says when a failure is allowed.
type NoLostParams struct {
	// Healthy lists the windows during which at least one edge was alive and
	// reachable. A request is judged only when it lies wholly inside one.
	Healthy []history.Window
	// OriginFaults lists windows during which an origin was deliberately
	// faulted; an origin error (X-Cache: Error) overlapping one is explained.
	OriginFaults []history.Window
	// EdgeFaults lists windows during which some edge was taken out; a
	// non-idempotent request overlapping one may fail (it must not be
	// retried, and the edge it was on died).
	EdgeFaults []history.Window
}

// NoLostRequests checks invariant 1: no request failed (transport error, or a
// 5xx not explained by a deliberate origin fault or a function error) while a
// healthy path existed.
func NoLostRequests(reqs []history.Request, p NoLostParams) Result {
	res := newResult(NameNoLostRequests)
	res.Checked = len(reqs)
	for _, r := range reqs {
		if !r.Failed() || !insideAny(p.Healthy, r.Start, r.End) {
			continue
		}
		if r.Err == "" && r.IsFunctionError() {
			continue
		}
		if r.Err == "" && r.IsOriginError() && overlapsAny(p.OriginFaults, r.Start, r.End) {
			continue
		}
		if !r.Idempotent() && overlapsAny(p.EdgeFaults, r.Start, r.End) {
			continue
		}
		what := r.Err
		if what == "" {
			what = "status " + itoa(r.Status) + " X-Cache " + quote(r.XCache)
		}
		res.violateAt(r.Start, "%s %s (region %s, node %s) at %s: %s while a healthy path existed",
			r.Method, r.Path, r.ViewerRegion, r.ServedBy(), r.Start.Format(time.RFC3339Nano), what)
	}
	return res
}

func insideAny(ws []history.Window, from, to time.Time) bool {
	for _, w := range ws {
		if w.Covers(from, to) {
			return true
		}
	}
	return false
}

func overlapsAny(ws []history.Window, from, to time.Time) bool {
	for _, w := range ws {
		if from.Before(w.To) && !to.Before(w.From) {
			return true
		}
	}
	return false
}
