package dashboard

import (
	"fmt"
	"math"
	"sort"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/distribution"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// rolloutTracker keeps the last few rollouts of every distribution: the
// status only describes a distribution's latest change, so earlier ones
// live here for comparison. Owned by Hub.Run.
type rolloutTracker struct {
	keep   int
	byDist map[string][]*Rollout // newest last
}

// sinceMs is t - from in milliseconds, or none when t is unset.
func sinceMs(t *timestamppb.Timestamp, from time.Time) Num {
	if t == nil || t.AsTime().IsZero() {
		return none
	}
	return Num(float64(t.AsTime().Sub(from)) / float64(time.Millisecond))
}

// versionsOf lists the function versions a distribution associates.
func versionsOf(d *edgelabv1.Distribution) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, b := range d.GetBehaviors() {
		for _, a := range b.GetFunctions() {
			ref := fmt.Sprintf("%s:%d", a.GetFunction(), a.GetVersion())
			if !seen[ref] {
				seen[ref] = true
				out = append(out, ref)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (t *rolloutTracker) update(st *edgelabv1.GetStatusResponse, dists []*edgelabv1.Distribution) {
	byID := map[string]*edgelabv1.Distribution{}
	for _, d := range dists {
		byID[d.GetId()] = d
	}
	for _, ds := range st.GetDistributions() {
		r := rolloutOf(ds)
		if d, ok := byID[ds.GetDistributionId()]; ok {
			r.Versions = versionsOf(d)
		}
		list := t.byDist[r.Distribution]
		if n := len(list); n > 0 && list[n-1].Revision == r.Revision {
			if len(r.Versions) == 0 {
				r.Versions = list[n-1].Versions
			}
			list[n-1] = r
		} else {
			list = append(list, r)
		}
		if len(list) > t.keep {
			list = list[len(list)-t.keep:]
		}
		t.byDist[r.Distribution] = list
	}
}

func rolloutOf(ds *edgelabv1.DistributionStatus) *Rollout {
	changed := ds.GetChanged().AsTime()
	r := &Rollout{Distribution: ds.GetDistributionId(), Revision: ds.GetRevision(), Changed: changed,
		State: distribution.StateName(ds.GetState()), DeployedMs: none, Versions: []string{}, Nodes: []RolloutNode{},
		Tiers: tierRows(ds.GetRegions())}
	last := none
	for _, n := range ds.GetNodes() {
		rn := RolloutNode{ID: n.GetNodeId(), Region: n.GetRegion(), PoP: n.GetPop(), Tier: tierOf(n.GetRole()), AckedRevision: n.GetAckedRevision(),
			SentMs: sinceMs(n.GetSent(), changed), AppliedMs: sinceMs(n.GetApplied(), changed),
			AckedMs: sinceMs(n.GetAcked(), changed), State: distribution.StateName(n.GetState()), Error: n.GetError()}
		if a := float64(rn.AckedMs); !math.IsNaN(a) && (math.IsNaN(float64(last)) || a > float64(last)) {
			last = Num(a)
		}
		r.Nodes = append(r.Nodes, rn)
	}
	sort.Slice(r.Nodes, func(i, j int) bool {
		a, b := r.Nodes[i], r.Nodes[j]
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.Tier != b.Tier {
			return a.Tier == TierPoP
		}
		return a.ID < b.ID
	})
	if ds.GetState() == edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED {
		r.DeployedMs = last
	}
	return r
}

// durMs is d in milliseconds, or none when unset.
func durMs(d *durationpb.Duration) Num {
	if d == nil {
		return none
	}
	return Num(float64(d.AsDuration()) / float64(time.Millisecond))
}

// tierRows are the status rows per region and tier, PoPs first in each
// region.
func tierRows(rs []*edgelabv1.RegionStatus) []RolloutTier {
	out := make([]RolloutTier, 0, len(rs))
	for _, r := range rs {
		out = append(out, RolloutTier{Region: r.GetRegion(), Tier: tierOf(r.GetRole()), Nodes: r.GetNodes(), Acked: r.GetAcked(),
			FirstAckMs: durMs(r.GetFirstAck()), LastAckMs: durMs(r.GetLastAck()), State: distribution.StateName(r.GetState())})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Region != out[j].Region {
			return out[i].Region < out[j].Region
		}
		return out[i].Tier == TierPoP && out[j].Tier != TierPoP
	})
	return out
}

// view lists the kept rollouts, newest first across distributions.
func (t *rolloutTracker) view() []Rollout {
	out := []Rollout{}
	for _, list := range t.byDist {
		for _, r := range list {
			out = append(out, *r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Changed.Equal(out[j].Changed) {
			return out[i].Changed.After(out[j].Changed)
		}
		if out[i].Revision != out[j].Revision {
			return out[i].Revision > out[j].Revision
		}
		return out[i].Distribution < out[j].Distribution
	})
	return out
}
