package invariant

import (
	"sort"

	"github.com/edgelab/edgelab/chaos/history"
)

// AtMostOnce checks that no non-idempotent request (POST, PUT, PATCH,
// DELETE) the load sent with a chaos id reached the origins more than once:
// neither the gateway nor an edge may retry one. Receipts are what every
// origin recorded; receipts of ids the load did not send are ignored.
func AtMostOnce(reqs []history.Request, receipts []history.Receipt) Result {
	res := newResult(NameAtMostOnce)
	watched := map[string]history.Request{}
	for _, r := range reqs {
		if r.ID != "" && !r.Idempotent() {
			watched[r.ID] = r
		}
	}
	res.Checked = len(watched)
	count := map[string][]string{}
	for _, rc := range receipts {
		if _, ok := watched[rc.ID]; ok {
			count[rc.ID] = append(count[rc.ID], rc.Origin)
		}
	}
	ids := make([]string, 0, len(count))
	for id, origins := range count {
		if len(origins) > 1 {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := watched[id]
		res.violateAt(r.Start, "%s %s (id %s, region %s) reached the origin %d times (%v)",
			r.Method, r.Path, id, r.ViewerRegion, len(count[id]), count[id])
	}
	return res
}
