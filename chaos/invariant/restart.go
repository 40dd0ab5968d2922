package invariant

import (
	"time"

	"github.com/edgelab/edgelab/chaos/history"
)

// AckImpliesDurable checks that an acknowledgement means "on disk": every
// session of a node after its first (a reconnect, or a restart after a
// kill) starts at a revision at least as high as the highest revision the
// node had acknowledged before the session began. A node that acked before
// persisting, or lost its state in a kill, comes back lower.
func AckImpliesDurable(nodes []history.NodeHistory) Result {
	res := newResult(NameAckDurable)
	for _, n := range nodes {
		for i, s := range n.Sessions {
			if i == 0 {
				continue
			}
			res.Checked++
			acked := n.AckedBefore(s.Since)
			if s.Revision < acked {
				res.violateAt(s.Since, "node %s restarted at %s with revision %d after acknowledging revision %d",
					n.Node, s.Since.Format(time.RFC3339Nano), s.Revision, acked)
			}
		}
	}
	return res
}
