package fault

import edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"

// KindDrop drops updates on their way to a node (the node is resynced with a
// snapshot once the fault is gone).
const KindDrop = "replication-drop"

// drop loses a share of the updates.
type drop struct{ rate float64 }

func newDrop(f *edgelabv1.Fault) Fault { return drop{rate: Rate(f)} }

// Act implements Fault: the largest rate wins.
func (d drop) Act(ch *Channel) { ch.DropRate = max(ch.DropRate, d.rate) }
