package invariant

import (
	"time"

	"github.com/edgelab/edgelab/chaos/history"
	"github.com/edgelab/edgelab/distribution"
)

// Fresh checks freshness after invalidation: no request is answered with a
// cache Hit of an object fetched from the origin before an invalidation
// covering its path was acknowledged, once the node that served it had
// applied that invalidation's revision.
//
// It is conservative on both sides: an object counts as stale only when
// its X-Origin-Time is before the invalidation's acknowledgement, and a node
// counts as having applied the invalidation only from the first moment the
// control plane was seen reporting the revision. Requests without
// X-Origin-Time cannot be judged and are not counted. Requests are matched
// by path; a run checked with Fresh invalidates one distribution.
func Fresh(reqs []history.Request, invals []history.Invalidation, nodes []history.NodeHistory) Result {
	res := newResult(NameFresh)
	byNode := make(map[string]history.NodeHistory, len(nodes))
	for _, n := range nodes {
		byNode[n.Node] = n
	}
	for _, r := range reqs {
		if r.CacheResult() != "Hit" || r.OriginTime.IsZero() {
			continue
		}
		res.Checked++
		n, ok := byNode[r.ServedBy()]
		if !ok {
			continue
		}
		for _, inv := range invals {
			if !r.OriginTime.Before(inv.Time) || !matchesAny(inv.Paths, r.Path) {
				continue
			}
			applied, ok := n.ReachedAt(inv.Revision)
			if !ok || !applied.Before(r.Start) {
				continue
			}
			res.violateAt(r.Start, "node %s served a Hit of %s at %s fetched at %s, before invalidation %v (revision %d) it applied by %s",
				n.Node, r.Path, r.Start.Format(time.RFC3339Nano), r.OriginTime.Format(time.RFC3339Nano),
				inv.Paths, inv.Revision, applied.Format(time.RFC3339Nano))
			break
		}
	}
	return res
}

func matchesAny(patterns []string, path string) bool {
	for _, p := range patterns {
		if distribution.MatchInvalidation(p, path) {
			return true
		}
	}
	return false
}
