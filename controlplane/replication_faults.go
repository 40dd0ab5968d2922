package controlplane

import (
	"strings"

	"google.golang.org/protobuf/proto"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// FaultLister lists every active fault. A ReplicationFaults that also
// implements it (the FaultSet does) lets the Replicator forward the faults a
// node acts on itself (NodeSideFaultKinds) in StreamResponse.FaultUpdate;
// without it nodes only ever receive the empty update sent after Hello.
type FaultLister interface {
	// All returns the active faults sorted by id; they must not be modified.
	All() []*edgelabv1.Fault
}

var _ FaultLister = (*FaultSet)(nil)

// NodeSideFaultKinds are the fault kinds an edge node acts on itself, once
// the Replicator has forwarded them: health-fail (its health endpoint
// answers 503), the tier faults (tier-latency, tier-partition: how it
// serves tier requests) and the fetch faults of the functions it runs.
func NodeSideFaultKinds() []string {
	return []string{KindHealthFail, KindFetchLatency, KindFetchErrors, KindTierLatency, KindTierPartition}
}

// NodeSideFaults picks from all the faults a node with this id and region
// acts on: health-fail, tier-latency and tier-partition on node:<id> or
// region:<region>, and fetch-latency
// and fetch-errors on any function:<name> (the node may run any function).
// The order of all is kept.
func NodeSideFaults(all []*edgelabv1.Fault, node, region string) []*edgelabv1.Fault {
	var out []*edgelabv1.Fault
	for _, f := range all {
		tkind, name, _ := strings.Cut(f.GetTarget(), ":")
		switch f.GetKind() {
		case KindHealthFail, KindTierLatency, KindTierPartition:
			if (tkind == TargetNode && name == node) || (tkind == TargetRegion && name == region && region != "") {
				out = append(out, f)
			}
		case KindFetchLatency, KindFetchErrors:
			if tkind == TargetFunction && name != "" {
				out = append(out, f)
			}
		}
	}
	return out
}

// nodeFaultTracker decides when a stream sends a FaultUpdate: once after
// Hello, then whenever the node-side faults differ from what was sent last.
// It belongs to one stream goroutine.
type nodeFaultTracker struct {
	lister       FaultLister // nil: only the initial empty update
	node, region string
	sent         []*edgelabv1.Fault
	sentOnce     bool
	dirty        bool // the fault set changed since the last check
}

func newNodeFaultTracker(src ReplicationFaults, node, region string) *nodeFaultTracker {
	l, _ := src.(FaultLister)
	return &nodeFaultTracker{lister: l, node: node, region: region, dirty: true}
}

// changed records that the fault set changed.
func (t *nodeFaultTracker) changed() { t.dirty = true }

// next returns the update to send, or nil when the node already has the
// current node-side faults. A returned update counts as sent.
func (t *nodeFaultTracker) next() *edgelabv1.StreamResponse {
	if !t.dirty && t.sentOnce {
		return nil
	}
	t.dirty = false
	var cur []*edgelabv1.Fault
	if t.lister != nil {
		cur = NodeSideFaults(t.lister.All(), t.node, t.region)
	}
	if t.sentOnce && sameFaults(cur, t.sent) {
		return nil
	}
	t.sent, t.sentOnce = cur, true
	return &edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Faults{Faults: &edgelabv1.FaultUpdate{Faults: cur}}}
}

func sameFaults(a, b []*edgelabv1.Fault) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
