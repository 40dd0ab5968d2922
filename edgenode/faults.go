package edgenode

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/edgelab/edgelab/edgenode/replica"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

var _ replica.FaultApplier = (*Node)(nil)

// Fault kinds and target kinds the node acts on (the control plane's
// catalogue, docs/chaos.md; the Replicator forwards only these to a node).
const (
	faultHealthFail   = "health-fail"
	faultFetchLatency = "fetch-latency"
	faultFetchErrors  = "fetch-errors"
	faultTierLatency  = "tier-latency"
	faultTierPart     = "tier-partition"
	targetFunction    = "function"
)

// faultState is the node's chaos faults as ApplyFaults last received them,
// prepared for the request path. It is immutable once stored.
type faultState struct {
	// health lists the health-fail faults (any one fails the health check).
	health []activeFault
	// fetch maps a function name to its fetch faults, sorted by fault id.
	fetch map[string][]activeFault
	// tier lists the tier-latency and tier-partition faults (how the node
	// serves tier requests, tierfault.go).
	tier []activeFault
}

// activeFault is one fault with what the node needs of it.
type activeFault struct {
	id, kind, target string
	expires          time.Time // zero: until healed
	latency          time.Duration
	rate             float64 // fetch-errors: fraction of invocations, 1 = all
	status           int     // fetch-errors: answer fetches with this status; 0 = fail them
}

func (f activeFault) live(now time.Time) bool { return f.expires.IsZero() || now.Before(f.expires) }

// ApplyFaults implements replica.FaultApplier: faults is the complete list
// of chaos faults for this node, replacing the previous one (empty heals
// all). health-fail makes HealthPath answer 503 (the gateway ejects the
// node; everything else keeps being served); tier-latency and
// tier-partition delay or refuse the tier requests it serves (tierfault.go);
// fetch-latency and fetch-errors
// on function:<name> slow down or fail the edge.Fetch calls of that
// function's invocations (wired into the sandbox runner the node builds;
// a Config.Runner supplied by the caller does not see them). Other kinds
// are ignored. A fault past its expiry is ignored even before the control
// plane removes it. Safe for concurrent use.
func (n *Node) ApplyFaults(faults []*edgelabv1.Fault) {
	st := &faultState{fetch: map[string][]activeFault{}}
	var kept []string
	for _, f := range faults {
		if f == nil {
			continue
		}
		af := activeFault{id: f.GetId(), kind: f.GetKind(), target: f.GetTarget(), latency: f.GetLatency().AsDuration()}
		if e := f.GetExpires(); e != nil && e.IsValid() {
			af.expires = e.AsTime()
		}
		switch f.GetKind() {
		case faultHealthFail:
			st.health = append(st.health, af)
		case faultTierLatency, faultTierPart:
			if f.GetKind() == faultTierLatency && af.latency <= 0 {
				continue
			}
			st.tier = append(st.tier, af)
		case faultFetchLatency, faultFetchErrors:
			tkind, name, ok := strings.Cut(f.GetTarget(), ":")
			if !ok || tkind != targetFunction || name == "" {
				n.cfg.Logger.Warn("ignoring a fetch fault without a function target", "node", n.cfg.NodeID, "fault", f.GetId(), "target", f.GetTarget())
				continue
			}
			if f.GetKind() == faultFetchLatency {
				if af.latency <= 0 {
					continue
				}
			} else {
				af.latency = 0
				af.rate = f.GetRate()
				if af.rate <= 0 || af.rate > 1 || math.IsNaN(af.rate) {
					af.rate = 1 // 0 (unset) means every invocation; bad values too
				}
				if s := int(f.GetStatus()); s >= 100 && s <= 599 {
					af.status = s
				}
			}
			st.fetch[name] = append(st.fetch[name], af)
		default:
			continue
		}
		kept = append(kept, f.GetKind()+"@"+f.GetTarget())
	}
	for _, fs := range st.fetch {
		sort.Slice(fs, func(i, j int) bool { return fs[i].id < fs[j].id })
	}
	if len(st.health) == 0 && len(st.fetch) == 0 && len(st.tier) == 0 {
		st = nil
	}
	old := n.faults.Swap(st)
	if old != nil || st != nil {
		n.cfg.Logger.Info("chaos faults applied", "node", n.cfg.NodeID, "faults", kept)
	}
}

// healthFault returns the first live health-fail fault, if any.
func (n *Node) healthFault() (activeFault, bool) {
	st := n.faults.Load()
	if st == nil {
		return activeFault{}, false
	}
	now := time.Now()
	for _, f := range st.health {
		if f.live(now) {
			return f, true
		}
	}
	return activeFault{}, false
}

// healthFaultReply is HealthPath's answer while a health-fail fault is
// active: 503 with a JSON reason. Nil when the node is healthy.
func (n *Node) healthFaultReply() *reply {
	f, ok := n.healthFault()
	if !ok {
		return nil
	}
	body, _ := json.Marshal(struct {
		Node     string `json:"node"`
		Region   string `json:"region"`
		PoP      string `json:"pop"`
		Revision int64  `json:"revision"`
		Healthy  bool   `json:"healthy"`
		Reason   string `json:"reason"`
		Fault    string `json:"fault"`
	}{n.cfg.NodeID, n.cfg.Region, n.cfg.PoP, n.Revision(), false,
		fmt.Sprintf("chaos fault %s: health-fail on %s", f.id, f.target), f.id})
	h := http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}
	return &reply{status: http.StatusServiceUnavailable, header: h, body: append(body, '\n'), xcache: xError}
}

// FetchFault is the sandbox's per-invocation fetch-fault hook
// (sandbox.ManagerConfig.FetchFault): the fault that the active
// fetch-latency and fetch-errors faults on function:<inv.Function> inject
// into this invocation's edge.Fetch calls. Latencies add up to the largest
// one; a fetch-errors fault with rate r hits a fraction r of invocations
// (all of their fetches), failing them or, when it has a status, answering
// them with that status. Safe for concurrent use; cheap when no fault is set.
func (n *Node) FetchFault(inv sandbox.Invocation) sandbox.FetchFault {
	st := n.faults.Load()
	if st == nil {
		return sandbox.FetchFault{}
	}
	fs := st.fetch[inv.Function]
	if len(fs) == 0 {
		return sandbox.FetchFault{}
	}
	now := time.Now()
	var out sandbox.FetchFault
	hit := false
	for _, f := range fs {
		if !f.live(now) {
			continue
		}
		switch f.kind {
		case faultFetchLatency:
			out.Delay = max(out.Delay, f.latency)
		case faultFetchErrors:
			if hit || (f.rate < 1 && rand.Float64() >= f.rate) {
				continue
			}
			hit = true
			if f.status != 0 {
				out.Status = f.status
			} else {
				out.Err = fmt.Sprintf("chaos fault %s: fetch-errors on %s", f.id, f.target)
			}
		}
	}
	return out
}
