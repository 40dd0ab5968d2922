package invariant

import (
	"sort"
	"time"

	"github.com/edgelab/edgelab/chaos/history"
)

type servedKey struct{ node, function string }

type served struct {
	start, end time.Time
	version    int64
}

// Monotonic checks invariant 3: per node and function, once a request
// completed having been served version N, no request started afterwards on
// that node is served a version below N; and each node's applied revisions
// never decrease.
//
// Order is real time as the client saw it: two requests that overlapped in
// time are not ordered, so concurrent requests racing a version switch are
// never reported.
func Monotonic(reqs []history.Request, nodes []history.NodeHistory) Result {
	res := newResult(NameMonotonic)
	obs := map[servedKey][]served{}
	for _, r := range reqs {
		node := r.ServedBy()
		if node == "" || r.Err != "" {
			continue
		}
		for _, f := range r.Functions {
			k := servedKey{node, f.Function}
			obs[k] = append(obs[k], served{start: r.Start, end: r.End, version: f.Version})
		}
	}
	keys := make([]servedKey, 0, len(obs))
	for k := range obs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].node != keys[j].node {
			return keys[i].node < keys[j].node
		}
		return keys[i].function < keys[j].function
	})
	for _, k := range keys {
		res.Checked += len(obs[k])
		checkServed(&res, k, obs[k])
	}
	for _, n := range nodes {
		for i := 1; i < len(n.Applied); i++ {
			prev, cur := n.Applied[i-1], n.Applied[i]
			if cur.Revision < prev.Revision {
				res.violate("node %s applied revision %d at %s after revision %d",
					n.Node, cur.Revision, cur.Time.Format(time.RFC3339Nano), prev.Revision)
			}
		}
	}
	return res
}

func checkServed(res *Result, k servedKey, obs []served) {
	byStart := append([]served(nil), obs...)
	sort.SliceStable(byStart, func(i, j int) bool { return byStart[i].start.Before(byStart[j].start) })
	byEnd := append([]served(nil), obs...)
	sort.SliceStable(byEnd, func(i, j int) bool { return byEnd[i].end.Before(byEnd[j].end) })
	var maxDone served // highest version among requests already completed
	j := 0
	for _, o := range byStart {
		for j < len(byEnd) && byEnd[j].end.Before(o.start) {
			if byEnd[j].version > maxDone.version {
				maxDone = byEnd[j]
			}
			j++
		}
		if o.version < maxDone.version {
			res.violate("node %s served %s:%d at %s after serving %s:%d (completed %s)",
				k.node, k.function, o.version, o.start.Format(time.RFC3339Nano),
				k.function, maxDone.version, maxDone.end.Format(time.RFC3339Nano))
		}
	}
}
