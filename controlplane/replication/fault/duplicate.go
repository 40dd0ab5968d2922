package fault

import edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"

// KindDuplicate sends a share of the updates twice.
const KindDuplicate = "replication-duplicate"

// duplicate repeats a share of the updates.
type duplicate struct{ rate float64 }

func newDuplicate(f *edgelabv1.Fault) Fault { return duplicate{rate: Rate(f)} }

// Act implements Fault: the largest rate wins.
func (d duplicate) Act(ch *Channel) { ch.DuplicateRate = max(ch.DuplicateRate, d.rate) }
