package controlplane

import (
	"context"
	"sort"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/desired"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// ListNodes lists every live node (records of all replicas), sorted by region then id.
func (r *Replicator) ListNodes(ctx context.Context, _ *edgelabv1.ListNodesRequest) (*edgelabv1.ListNodesResponse, error) {
	recs, err := readNodeRecords(ctx, r.cfg.KV, r.cfg.Keys)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "%v", err)
	}
	out := &edgelabv1.ListNodesResponse{}
	for _, rec := range recs {
		out.Nodes = append(out.Nodes, rec.Node)
	}
	sort.SliceStable(out.Nodes, func(i, j int) bool {
		a, b := out.Nodes[i], out.Nodes[j]
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.Id < b.Id
	})
	return out, nil
}

// GetStatus reports, per distribution, the propagation of its latest change
// (the distribution itself, a function version it uses, or an invalidation
// of it): Deployed once every live node applied a revision at or after the
// change, Failed while a node that NACKed it has not recovered, else
// InProgress; with per-node and per-region detail.
func (r *Replicator) GetStatus(ctx context.Context, req *edgelabv1.GetStatusRequest) (*edgelabv1.GetStatusResponse, error) {
	k := r.cfg.Keys
	distKey := k.Distributions()
	if req.DistributionId != "" {
		distKey = k.Distribution(req.DistributionId)
	}
	distOpts := []clientv3.OpOption{}
	if req.DistributionId == "" {
		distOpts = append(distOpts, clientv3.WithPrefix())
	}
	resp, err := r.cfg.KV.Txn(ctx).Then(
		clientv3.OpGet(distKey, distOpts...),
		clientv3.OpGet(k.Versions(), clientv3.WithPrefix(), clientv3.WithKeysOnly()),
		clientv3.OpGet(k.Invalidations(), clientv3.WithPrefix(), clientv3.WithKeysOnly()),
		clientv3.OpGet(k.Nodes(), clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "reading status: %v", err)
	}
	dists := resp.Responses[0].GetResponseRange().Kvs
	if req.DistributionId != "" && len(dists) == 0 {
		return nil, status.Errorf(codes.NotFound, "distribution %q not found", req.DistributionId)
	}
	versionRev := map[desired.Key]int64{}
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		if name, v, ok := k.ParseVersionKey(string(kv.Key)); ok {
			versionRev[desired.Key{Name: name, Version: v}] = kv.ModRevision
		}
	}
	invRev := map[string]int64{}
	for _, kv := range resp.Responses[2].GetResponseRange().Kvs {
		rest := strings.TrimPrefix(string(kv.Key), k.Invalidations())
		if dist, _, ok := strings.Cut(rest, "/"); ok {
			invRev[dist] = max(invRev[dist], kv.ModRevision)
		}
	}
	var recs []*edgelabv1.NodeRecord
	for _, kv := range resp.Responses[3].GetResponseRange().Kvs {
		rec := &edgelabv1.NodeRecord{}
		if proto.Unmarshal(kv.Value, rec) == nil && rec.Node != nil {
			recs = append(recs, rec)
		}
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Node.Id < recs[j].Node.Id })
	// The desired-state revision: the newest change under state/ (the hub
	// also knows deletions), not etcd's header revision, which node records
	// and faults move too.
	stateRev, _, _ := r.hub.current()
	for i := 0; i < 3; i++ {
		for _, kv := range resp.Responses[i].GetResponseRange().Kvs {
			stateRev = max(stateRev, kv.ModRevision)
		}
	}
	out := &edgelabv1.GetStatusResponse{Revision: stateRev}
	for _, kv := range dists {
		d := &edgelabv1.Distribution{}
		if err := proto.Unmarshal(kv.Value, d); err != nil {
			continue
		}
		id := strings.TrimPrefix(string(kv.Key), k.Distributions())
		changeRev := kv.ModRevision
		for _, ref := range desired.Refs(d) {
			changeRev = max(changeRev, versionRev[ref])
		}
		changeRev = max(changeRev, invRev[id])
		out.Distributions = append(out.Distributions, r.distStatus(id, changeRev, d, recs))
	}
	return out, nil
}

// changeTime finds when a revision was first seen: a node's ack record, this
// replica's hub, or the distribution's own timestamp.
func (r *Replicator) changeTime(rev int64, d *edgelabv1.Distribution, recs []*edgelabv1.NodeRecord) time.Time {
	var best time.Time
	for _, rec := range recs {
		for _, a := range rec.History {
			if a.Revision == rev && a.Changed != nil {
				if t := a.Changed.AsTime(); best.IsZero() || t.Before(best) {
					best = t
				}
			}
		}
	}
	if !best.IsZero() {
		return best
	}
	if t := r.hub.changedAt(rev); !t.IsZero() {
		return t
	}
	if d.Updated != nil {
		return d.Updated.AsTime()
	}
	return time.Time{}
}

// regionAgg accumulates one region's nodes for a distribution's status.
type regionAgg struct {
	st          *edgelabv1.RegionStatus
	first, last time.Duration
	failed      bool
}

// distStatus derives one distribution's propagation of the change at rev
// from the node records: per node, per region (nearest the home region
// first) and overall.
func (r *Replicator) distStatus(id string, rev int64, d *edgelabv1.Distribution, recs []*edgelabv1.NodeRecord) *edgelabv1.DistributionStatus {
	changed := r.changeTime(rev, d, recs)
	ds := &edgelabv1.DistributionStatus{DistributionId: id, Revision: rev}
	if !changed.IsZero() {
		ds.Changed = timestamppb.New(changed)
	}
	regions := map[regionTier]*regionAgg{}
	anyFailed, allAcked := false, true
	for _, rec := range recs {
		ns := nodeChangeStatus(rec, rev)
		anyFailed = anyFailed || ns.State == edgelabv1.DeploymentState_DEPLOYMENT_STATE_FAILED
		allAcked = allAcked && ns.State == edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED
		ds.Nodes = append(ds.Nodes, ns)
		k := regionTier{ns.Region, ns.Role}
		ra := regions[k]
		if ra == nil {
			ra = &regionAgg{st: &edgelabv1.RegionStatus{Region: ns.Region, Role: ns.Role}, first: -1}
			regions[k] = ra
		}
		ra.add(ns, changed)
	}
	ds.Regions = r.regionStatuses(regions)
	switch {
	case anyFailed:
		ds.State = edgelabv1.DeploymentState_DEPLOYMENT_STATE_FAILED
	case allAcked:
		ds.State = edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED
	default:
		ds.State = edgelabv1.DeploymentState_DEPLOYMENT_STATE_IN_PROGRESS
	}
	return ds
}

// nodeChangeStatus is one node's progress on the change at rev: the first
// record at or after the change tells when it was sent and acked.
func nodeChangeStatus(rec *edgelabv1.NodeRecord, rev int64) *edgelabv1.NodeChangeStatus {
	n := rec.Node
	ns := &edgelabv1.NodeChangeStatus{NodeId: n.Id, Region: n.Region, Pop: n.Pop, AckedRevision: n.AppliedRevision, Role: nodeRole(n.Role)}
	for _, a := range rec.History {
		if a.Revision < rev {
			continue
		}
		if ns.Sent == nil {
			ns.Sent = a.Sent
		}
		if a.Ok && ns.Acked == nil && n.AppliedRevision >= a.Revision {
			ns.Applied, ns.Acked = a.Applied, a.Acked
		}
		if !a.Ok && a.Revision > n.AppliedRevision {
			ns.Error = a.Error
		}
	}
	switch {
	case n.AppliedRevision >= rev:
		ns.State = edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED
		ns.Error = ""
	case ns.Error != "":
		ns.State = edgelabv1.DeploymentState_DEPLOYMENT_STATE_FAILED
	default:
		ns.State = edgelabv1.DeploymentState_DEPLOYMENT_STATE_IN_PROGRESS
	}
	return ns
}

// add counts one node; ack offsets are measured from changed.
func (ra *regionAgg) add(ns *edgelabv1.NodeChangeStatus, changed time.Time) {
	ra.st.Nodes++
	switch ns.State {
	case edgelabv1.DeploymentState_DEPLOYMENT_STATE_FAILED:
		ra.failed = true
	case edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED:
		ra.st.Acked++
		if ns.Acked != nil && !changed.IsZero() {
			off := max(ns.Acked.AsTime().Sub(changed), 0)
			if ra.first < 0 || off < ra.first {
				ra.first = off
			}
			ra.last = max(ra.last, off)
		}
	}
}

// regionTier keys a status row: one per region and tier.
type regionTier struct{ region, role string }

// nodeRole is a node's tier as status rows name it ("" from a node that
// predates tiers is a PoP).
func nodeRole(role string) string {
	if role == "" {
		return "pop"
	}
	return role
}

// regionStatuses finishes the rows per region and tier, nearest the home
// region first, PoPs before RECs within a region.
func (r *Replicator) regionStatuses(regions map[regionTier]*regionAgg) []*edgelabv1.RegionStatus {
	names := make([]regionTier, 0, len(regions))
	for name := range regions {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		li, lj := r.top.Latency(r.top.Home(), names[i].region), r.top.Latency(r.top.Home(), names[j].region)
		if li != lj {
			return li < lj
		}
		if names[i].region != names[j].region {
			return names[i].region < names[j].region
		}
		return names[i].role < names[j].role
	})
	var out []*edgelabv1.RegionStatus
	for _, name := range names {
		ra := regions[name]
		switch {
		case ra.failed:
			ra.st.State = edgelabv1.DeploymentState_DEPLOYMENT_STATE_FAILED
		case ra.st.Acked == ra.st.Nodes:
			ra.st.State = edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED
		default:
			ra.st.State = edgelabv1.DeploymentState_DEPLOYMENT_STATE_IN_PROGRESS
		}
		if ra.first >= 0 {
			ra.st.FirstAck = durationpb.New(ra.first)
			ra.st.LastAck = durationpb.New(ra.last)
		}
		out = append(out, ra.st)
	}
	return out
}
