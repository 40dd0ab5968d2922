package dashboard

import (
	"sort"
	"time"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// networkTracker remembers every node seen, so that a node that vanishes
// from the node list (its lease expired: killed) is shown down rather than
// silently dropped. Owned by Hub.Run.
type networkTracker struct {
	seen   map[string]*Node
	listed map[string]bool
	forget time.Duration // a node gone this long is dropped
}

func (t *networkTracker) update(now time.Time, nodes []*edgelabv1.Node) {
	t.listed = map[string]bool{}
	for _, n := range nodes {
		if n.GetId() == "" {
			continue
		}
		t.listed[n.GetId()] = true
		t.seen[n.GetId()] = &Node{
			ID: n.GetId(), Region: n.GetRegion(), PoP: n.GetPop(), Tier: tierOf(n.GetRole()), Health: n.GetHealth(),
			AppliedRevision: n.GetAppliedRevision(), AttachedTo: n.GetAttachedTo(), Connected: n.GetConnected(),
			LastSeen: n.GetLastSeen().AsTime(), LastError: n.GetLastError(), URL: n.GetHttpUrl(),
		}
	}
	for id, n := range t.seen {
		if !t.listed[id] && now.Sub(n.LastSeen) > t.forget {
			delete(t.seen, id)
		}
	}
}

// tierOf is the tier of a node role ("" is a PoP).
func tierOf(role string) string {
	if role == TierREC {
		return TierREC
	}
	return TierPoP
}

// nodeState classifies a node for the Network view.
func nodeState(n Node, listed bool, desired int64) string {
	switch {
	case !listed || !n.Connected:
		return NodeDown
	case n.Health != "" && n.Health != "ok":
		return NodeUnhealthy
	case n.AppliedRevision < desired:
		return NodeBehind
	}
	return NodeUp
}

func (t *networkTracker) view(now time.Time, desired int64) Network {
	by := map[string][]Node{}
	for id, n := range t.seen {
		v := *n
		v.State = nodeState(v, t.listed[id], desired)
		if v.State != NodeDown && v.AppliedRevision < desired {
			v.Behind = desired - v.AppliedRevision
		}
		by[v.Region] = append(by[v.Region], v)
	}
	out := Network{Desired: desired, Regions: []Region{}, Tiers: []TierCount{}}
	tiers := map[string]*TierCount{}
	for name, ns := range by {
		sort.Slice(ns, func(i, j int) bool {
			if ns[i].Tier != ns[j].Tier {
				return ns[i].Tier == TierPoP
			}
			return ns[i].ID < ns[j].ID
		})
		out.Regions = append(out.Regions, Region{Name: name, Nodes: ns})
		for _, n := range ns {
			tc := tiers[n.Tier]
			if tc == nil {
				tc = &TierCount{Tier: n.Tier, ByState: map[string]int{NodeUp: 0, NodeBehind: 0, NodeUnhealthy: 0, NodeDown: 0}}
				tiers[n.Tier] = tc
			}
			tc.Nodes++
			tc.ByState[n.State]++
		}
	}
	sort.Slice(out.Regions, func(i, j int) bool { return out.Regions[i].Name < out.Regions[j].Name })
	for _, tier := range []string{TierPoP, TierREC} {
		if tc := tiers[tier]; tc != nil {
			out.Tiers = append(out.Tiers, *tc)
		}
	}
	return out
}
