package invariant

import (
	"github.com/edgelab/edgelab/chaos/history"
)

// DurableAcks checks invariant 4: every acknowledged publish is a version
// present in etcd, every acknowledged apply is a distribution present in etcd
// at that revision or a later one, and every live node has applied at least
// the acknowledged revision and, when it reports its contents, holds the
// version (when a distribution references it) or distribution.
func DurableAcks(acks []history.Ack, final history.FinalState) Result {
	res := newResult(NameDurableAcks)
	res.Checked = len(acks)
	inEtcd := versionSet(final.Versions)
	referenced := versionSet(final.Referenced)
	for _, a := range acks {
		switch a.Kind {
		case history.AckPublish:
			fv := history.FunctionVersion{Function: a.Function, Version: a.Version}
			if !inEtcd[fv] {
				res.violate("publish %s:%d (revision %d) acknowledged but missing from etcd", a.Function, a.Version, a.Revision)
			}
		case history.AckApply:
			rev, ok := final.Distributions[a.Distribution]
			switch {
			case !ok:
				res.violate("apply %s (revision %d) acknowledged but missing from etcd", a.Distribution, a.Revision)
			case rev < a.Revision:
				res.violate("apply %s acknowledged at revision %d but etcd holds revision %d", a.Distribution, a.Revision, rev)
			}
		default:
			res.violate("ack of unknown kind %q at revision %d", a.Kind, a.Revision)
			continue
		}
		for _, n := range final.Nodes {
			if n.Live {
				checkNodeHas(&res, a, n, referenced)
			}
		}
	}
	return res
}

func checkNodeHas(res *Result, a history.Ack, n history.NodeState, referenced map[history.FunctionVersion]bool) {
	if n.AppliedRevision < a.Revision {
		res.violate("node %s (%s) at revision %d lacks %s acknowledged at revision %d",
			n.Node, n.Region, n.AppliedRevision, describe(a), a.Revision)
		return
	}
	switch a.Kind {
	case history.AckPublish:
		fv := history.FunctionVersion{Function: a.Function, Version: a.Version}
		if n.Versions != nil && referenced[fv] && !versionSet(n.Versions)[fv] {
			res.violate("node %s (%s) does not hold %s", n.Node, n.Region, describe(a))
		}
	case history.AckApply:
		if n.Distributions == nil {
			return
		}
		rev, ok := n.Distributions[a.Distribution]
		if !ok || rev < a.Revision {
			res.violate("node %s (%s) does not hold %s (has revision %d)", n.Node, n.Region, describe(a), rev)
		}
	}
}

func describe(a history.Ack) string {
	if a.Kind == history.AckPublish {
		return "version " + a.Function + ":" + itoa(int(a.Version))
	}
	return "distribution " + a.Distribution
}

func versionSet(vs []history.FunctionVersion) map[history.FunctionVersion]bool {
	m := make(map[history.FunctionVersion]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}
