package invariant

import (
	"time"

	"github.com/edgelab/edgelab/chaos/history"
)

// NackedNeverServed checks that a version which fails on the nodes is
// rejected there: no request names a broken version in X-Edgelab-Functions,
// and no node reports having applied a revision at which a distribution
// associated a broken version (it must NACK and keep its previous state).
func NackedNeverServed(reqs []history.Request, nodes []history.NodeHistory, broken []history.Broken) Result {
	res := newResult(NameNackedNeverServed)
	bad := map[history.FunctionVersion]bool{}
	for _, b := range broken {
		bad[history.FunctionVersion{Function: b.Function, Version: b.Version}] = true
	}
	for _, r := range reqs {
		for _, f := range r.Functions {
			res.Checked++
			if bad[history.FunctionVersion{Function: f.Function, Version: f.Version}] {
				res.violateAt(r.Start, "node %s ran broken version %s:%d for %s %s at %s",
					r.ServedBy(), f.Function, f.Version, r.Method, r.Path, r.Start.Format(time.RFC3339Nano))
			}
		}
	}
	for _, n := range nodes {
		for _, a := range n.Applied {
			for _, b := range broken {
				for _, w := range b.Windows {
					if w.Contains(a.Revision) {
						res.violateAt(a.Time, "node %s applied revision %d, at which %s:%d (broken) is associated, instead of NACKing it",
							n.Node, a.Revision, b.Function, b.Version)
					}
				}
			}
		}
	}
	return res
}
