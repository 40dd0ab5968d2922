package invariant

import (
	"sort"
	"time"

	"github.com/edgelab/edgelab/chaos/history"
)

// MixedVersions checks that, during window w, successful requests were served
// at least two distinct versions of function (the expected picture while a
// realistic propagation profile rolls a new version out region by region).
func MixedVersions(reqs []history.Request, function string, w history.Window) Result {
	res := newResult(NameMixedVersions)
	seen := map[int64]string{} // version -> a region that saw it
	for _, r := range reqs {
		if r.Failed() || !w.Contains(r.Start) {
			continue
		}
		for _, f := range r.Functions {
			if f.Function == function {
				res.Checked++
				if _, ok := seen[f.Version]; !ok {
					seen[f.Version] = r.ViewerRegion
				}
			}
		}
	}
	if len(seen) < 2 {
		res.violate("%d request(s) between %s and %s saw %d version(s) of %s, want at least 2",
			res.Checked, w.From.Format(time.RFC3339Nano), w.To.Format(time.RFC3339Nano), len(seen), function)
		return res
	}
	vs := make([]int64, 0, len(seen))
	for v := range seen {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i] < vs[j] })
	for _, v := range vs {
		res.note("%s:%d served (first seen from %s)", function, v, seen[v])
	}
	return res
}

// SingleVersion checks that every successful request started at or after
// `after` that ran function was served the same version, and that it is want
// when want > 0.
func SingleVersion(reqs []history.Request, function string, after time.Time, want int64) Result {
	res := newResult(NameSingleVersion)
	var first int64
	for _, r := range reqs {
		if r.Failed() || r.Start.Before(after) {
			continue
		}
		for _, f := range r.Functions {
			if f.Function != function {
				continue
			}
			res.Checked++
			if first == 0 {
				first = f.Version
			}
			switch {
			case want > 0 && f.Version != want:
				res.violate("node %s served %s:%d at %s, want only version %d",
					r.ServedBy(), function, f.Version, r.Start.Format(time.RFC3339Nano), want)
			case want == 0 && f.Version != first:
				res.violate("node %s served %s:%d at %s after %s:%d was served",
					r.ServedBy(), function, f.Version, r.Start.Format(time.RFC3339Nano), function, first)
			}
		}
	}
	if res.Checked == 0 {
		res.violate("no request ran %s after %s", function, after.Format(time.RFC3339Nano))
	}
	return res
}
