package fault

import (
	"time"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// KindDelay adds latency to every update sent to a node.
const KindDelay = "replication-delay"

// delay is extra replication latency.
type delay struct{ latency time.Duration }

func newDelay(f *edgelabv1.Fault) Fault { return delay{latency: f.GetLatency().AsDuration()} }

// Act implements Fault: the largest delay wins.
func (d delay) Act(ch *Channel) { ch.ExtraDelay = max(ch.ExtraDelay, d.latency) }
