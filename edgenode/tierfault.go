package edgenode

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/edgelab/edgelab/latency"
)

// tierFault applies the node's tier chaos faults to a tier request (a REC
// or shield serving a PoP's or a REC's miss; nil for a viewer request):
// tier-partition answers 502 without the tier header, so the asker takes
// the node for down and moves on (to the next REC, or the origin), as it
// would if the network between the tiers were cut; tier-latency waits the
// largest active latency first, ending early with the request's context
// (the asker's own timeout bounds what it waits).
func (t *txn) tierFault(ctx context.Context) *reply {
	if t.hop == nil {
		return nil
	}
	st := t.n.faults.Load()
	if st == nil || len(st.tier) == 0 {
		return nil
	}
	now := time.Now()
	var delay time.Duration
	for _, f := range st.tier {
		if !f.live(now) {
			continue
		}
		if f.kind == faultTierPart {
			t.hop = nil // no tier answer: the asker sees a node that is not a REC
			return errorReply(http.StatusBadGateway, xError,
				fmt.Sprintf("chaos fault %s: tier-partition on %s", f.id, f.target), t.rid)
		}
		delay = max(delay, f.latency)
	}
	if delay > 0 {
		if err := latency.Sleep(ctx, delay); err != nil {
			return errorReply(http.StatusGatewayTimeout, xError, "The tier request ended during a tier-latency fault.", t.rid)
		}
	}
	return nil
}
