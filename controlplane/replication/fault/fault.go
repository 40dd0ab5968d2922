package fault

import (
	"math/rand/v2"
	"time"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// Fault is one chaos fault on a node's replication channel. Implementations
// are immutable and safe for concurrent use.
type Fault interface {
	// Act folds the fault's effect into ch. Faults fold in any order: flags
	// are or-ed, delays and rates take the largest.
	Act(ch *Channel)
}

// Channel is the folded effect of every replication-channel fault active for
// one node. The zero value is a healthy channel.
type Channel struct {
	// CutStream: the stream is refused or closed (partition, both directions).
	CutStream bool
	// HoldToNode: nothing is sent to the node (partition to-node).
	HoldToNode bool
	// IgnoreFromNode: what the node sends is lost (partition to-controlplane).
	IgnoreFromNode bool
	// ExtraDelay is added to the modelled delay of every update (replication-delay).
	ExtraDelay time.Duration
	// DropRate is the probability of dropping an update (replication-drop).
	DropRate float64
	// DuplicateRate is the probability of sending an update twice (replication-duplicate).
	DuplicateRate float64
}

// Any reports whether any fault acts on the channel.
func (c Channel) Any() bool { return c != Channel{} }

// Copies decides how many copies of one update go out: 0 when it is
// dropped, 2 when it is duplicated, else 1.
func (c Channel) Copies(rnd *rand.Rand) int {
	if c.DropRate > 0 && rnd.Float64() < c.DropRate {
		return 0
	}
	if c.DuplicateRate > 0 && rnd.Float64() < c.DuplicateRate {
		return 2
	}
	return 1
}

// Parse returns the replication-channel fault a stored record describes;
// ok is false for kinds that do not act on the channel (process, origin and
// node-side faults).
func Parse(f *edgelabv1.Fault) (Fault, bool) {
	build, ok := kinds()[f.GetKind()]
	if !ok {
		return nil, false
	}
	return build(f), true
}

// kinds maps each fault kind of this package to its constructor.
func kinds() map[string]func(*edgelabv1.Fault) Fault {
	return map[string]func(*edgelabv1.Fault) Fault{
		KindPartition: newPartition,
		KindDelay:     newDelay,
		KindDrop:      newDrop,
		KindDuplicate: newDuplicate,
	}
}

// Rate is f's rate, where 0 (unset) means every message or request.
func Rate(f *edgelabv1.Fault) float64 {
	if f.GetRate() <= 0 {
		return 1
	}
	return f.GetRate()
}
