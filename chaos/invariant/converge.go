package invariant

import (
	"sort"
	"time"

	"github.com/edgelab/edgelab/chaos/history"
)

// ConvergeParams is what converge checks against.
type ConvergeParams struct {
	// Target is the latest desired-state revision every live node must reach.
	Target int64
	// Since is when convergence could start: the later of the last heal and
	// the last acknowledged write.
	Since time.Time
	// Bound is the allowed time from Since (modelled delay plus slack).
	Bound time.Duration
}

// RegionConvergence is how long a region took to converge: the slowest live
// node in it, measured from ConvergeParams.Since (0 when it was already there).
type RegionConvergence struct {
	Region    string        `json:"region"`
	Nodes     int           `json:"nodes"`
	Converged int           `json:"converged"`
	Time      time.Duration `json:"time"`
}

// Converge checks invariant 2: every live node reached Target no later than
// Since+Bound. It also returns the convergence time per region, sorted by region.
func Converge(nodes []history.NodeHistory, p ConvergeParams) (Result, []RegionConvergence) {
	res := newResult(NameConverge)
	regions := map[string]*RegionConvergence{}
	for _, n := range nodes {
		if !n.Live {
			continue
		}
		res.Checked++
		rc := regions[n.Region]
		if rc == nil {
			rc = &RegionConvergence{Region: n.Region}
			regions[n.Region] = rc
		}
		rc.Nodes++
		at, ok := n.ReachedAt(p.Target)
		if !ok {
			last := int64(0)
			if len(n.Applied) > 0 {
				last = n.Applied[len(n.Applied)-1].Revision
			}
			res.violate("node %s (%s) never reached revision %d (last applied %d)", n.Node, n.Region, p.Target, last)
			continue
		}
		rc.Converged++
		d := max(at.Sub(p.Since), 0)
		rc.Time = max(rc.Time, d)
		if d > p.Bound {
			res.violate("node %s (%s) reached revision %d after %s, bound %s", n.Node, n.Region, p.Target, d, p.Bound)
		}
	}
	if res.Checked == 0 {
		res.violate("no live node to check")
	}
	out := make([]RegionConvergence, 0, len(regions))
	for _, rc := range regions {
		out = append(out, *rc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Region < out[j].Region })
	return res, out
}
