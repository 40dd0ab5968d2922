package fault

import edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"

// KindPartition cuts a node off its control plane in one or both directions.
const KindPartition = "partition"

// Partition directions (edgelabv1.Fault.Direction).
const (
	DirectionBoth           = "both"
	DirectionToNode         = "to-node"
	DirectionToControlPlane = "to-controlplane"
)

// partition is a network partition between node and control plane.
type partition struct{ direction string }

func newPartition(f *edgelabv1.Fault) Fault { return partition{direction: f.GetDirection()} }

// Act implements Fault: to-node holds what is sent, to-controlplane ignores
// what the node sends, anything else (both, unset) cuts the stream.
func (p partition) Act(ch *Channel) {
	switch p.direction {
	case DirectionToNode:
		ch.HoldToNode = true
	case DirectionToControlPlane:
		ch.IgnoreFromNode = true
	default:
		ch.CutStream = true
	}
}
