package edgenode

import (
	"maps"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/edgelab/edgelab/topology"
)

// The two tiers, as CloudFront has them:
//
//	viewer -> PoP ------------------> REC ----------> [shield REC] --> origin
//	          viewer-request          lookup/collapse  lookup/collapse
//	          lookup/collapse         origin-request, origin-response
//	          viewer-response         (at whichever tier goes to the origin)
//
// A PoP's miss goes to its region's REC (recSide, tierupstream.go); a REC's
// miss goes to the distribution's origin shield or the topology's shield
// for it, else to the origin (originSide). Every tier caches with the
// behavior's cache policy and collapses concurrent misses per key. A REC
// that does not answer is skipped for RECDownFor; the PoP tries the next
// REC nearest its region and, when none answers, the origin itself
// (running the origin triggers in place).

// Tier roles (Hello.role, TierConfig.Role).
const (
	// RolePoP is an edge location: viewers reach it; it runs the viewer
	// triggers.
	RolePoP = "pop"
	// RoleREC is a regional edge cache: PoPs (and RECs, to a shield)
	// reach it; it runs the origin triggers when it goes to the origin.
	RoleREC = "rec"
)

// TierConfig places a node in the two-tier network. The zero value is a
// PoP without RECs: its misses go to the origin (one tier).
type TierConfig struct {
	// Role is RolePoP (default) or RoleREC. A REC's Config.PoP is its REC
	// name (topology.REC.Name) and Config.Region the REC's region.
	Role string
	// Topology names the RECs, which REC each region's PoPs use, the
	// preference order when one is down and the shields. Nil: no RECs.
	Topology *topology.Topology
	// RECs maps a REC name to the base URL of a node serving it
	// ("http://host:port"). A REC without a URL is skipped. Node.SetRECs
	// replaces it at run time.
	RECs map[string]string
	// RECDownFor is how long a REC that failed to answer is skipped.
	// Default 2s.
	RECDownFor time.Duration
	// RECConnectTimeout bounds connecting to a REC. Default 1s.
	RECConnectTimeout time.Duration
}

func (c TierConfig) withDefaults() TierConfig {
	if c.Role == "" {
		c.Role = RolePoP
	}
	if c.RECDownFor <= 0 {
		c.RECDownFor = 2 * time.Second
	}
	if c.RECConnectTimeout <= 0 {
		c.RECConnectTimeout = time.Second
	}
	return c
}

// tiers is a node's view of the second tier: REC addresses and which
// ones recently failed. Safe for concurrent use.
type tiers struct {
	cfg TierConfig
	// self is the node's REC name (RoleREC) and region.
	self, region string

	mu   sync.Mutex
	urls map[string]string    // REC name -> base URL; guarded by mu
	down map[string]time.Time // REC name -> skipped until; guarded by mu
}

func newTiers(cfg Config) *tiers {
	tc := cfg.Tier.withDefaults()
	return &tiers{cfg: tc, self: cfg.PoP, region: cfg.Region, urls: maps.Clone(tc.RECs), down: map[string]time.Time{}}
}

// isREC reports whether the node is a regional edge cache.
func (tr *tiers) isREC() bool { return tr.cfg.Role == RoleREC }

// SetRECs replaces the REC addresses (name -> base URL), for a REC that
// moved or restarted on another address.
func (n *Node) SetRECs(urls map[string]string) {
	n.tiers.mu.Lock()
	defer n.tiers.mu.Unlock()
	n.tiers.urls = maps.Clone(urls)
}

// peer is one REC a miss may go to.
type peer struct{ name, url string }

// peers lists the RECs a miss of distribution d tries, in order, without
// those marked down (none: the node goes to the origin). A PoP tries its
// region's REC, then the others nearest first; a REC tries its shield:
// the REC in the distribution's originShield region, else the topology's
// shield for it, unless that is the REC itself.
func (tr *tiers) peers(originShield string, now time.Time) []peer {
	top := tr.cfg.Topology
	if top == nil {
		return nil
	}
	var names []string
	if tr.isREC() {
		names = tr.shieldOf(originShield)
	} else {
		names = top.RECsByPreference(tr.region)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := make([]peer, 0, len(names))
	for _, name := range names {
		u := tr.urls[name]
		if u == "" || now.Before(tr.down[name]) {
			continue
		}
		out = append(out, peer{name: name, url: u})
	}
	return out
}

// shieldOf is the shield a REC's misses go through (nil: the origin).
func (tr *tiers) shieldOf(originShield string) []string {
	top := tr.cfg.Topology
	if originShield != "" {
		if s, ok := top.RECInRegion(originShield); ok && s != tr.self {
			return []string{s}
		}
		return nil
	}
	if s, ok := top.ShieldOf(tr.self); ok {
		return []string{s}
	}
	return nil
}

// regionOf is the region REC name is located in ("" when unknown).
func (tr *tiers) regionOf(name string) string {
	if tr.cfg.Topology == nil {
		return ""
	}
	r, _ := tr.cfg.Topology.REC(name)
	return r.Region
}

// markDown skips a REC for RECDownFor.
func (tr *tiers) markDown(name string, now time.Time) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.down[name] = now.Add(tr.cfg.RECDownFor)
}

// hopHeader carries a tier request's context from the asking tier (PoP
// or REC) to a REC, and a REC's answer back: url-encoded fields. It is an
// X-Edgelab-* header, so functions and origins never see it.
const hopHeader = "X-Edgelab-Hop"

// maxHops bounds how many tiers one request passes (a loop guard).
const maxHops = 4

// hop is what a tier request says about itself.
type hop struct {
	// pop is the edge location the viewer reached.
	pop string
	// behavior is the path pattern of the behavior the PoP chose (on the
	// viewer's URI, before viewer-request changed it).
	behavior string
	// client is the viewer's address.
	client string
	// hops counts the tiers passed before this one.
	hops int
	// inval is the revision of the newest invalidation of the
	// distribution the asking tiers applied (0: none). A REC behind it
	// does not answer from its cache.
	inval int64
	// staging is the staging distribution the PoP routed the request to
	// ("": the one the Host names).
	staging string
}

func (h hop) encode() string {
	v := url.Values{"pop": {h.pop}, "behavior": {h.behavior}, "client": {h.client}, "hops": {strconv.Itoa(h.hops)}}
	if h.inval > 0 {
		v.Set("inval", strconv.FormatInt(h.inval, 10))
	}
	if h.staging != "" {
		v.Set("staging", h.staging)
	}
	return v.Encode()
}

// parseHop reads a hop header value; ok is false when there is none or it
// is malformed.
func parseHop(s string) (h hop, ok bool) {
	if s == "" {
		return hop{}, false
	}
	v, err := url.ParseQuery(s)
	if err != nil {
		return hop{}, false
	}
	n, err := strconv.Atoi(v.Get("hops"))
	if err != nil || n < 0 {
		return hop{}, false
	}
	var inval int64
	if s := v.Get("inval"); s != "" {
		if inval, err = strconv.ParseInt(s, 10, 64); err != nil || inval < 0 {
			return hop{}, false
		}
	}
	return hop{pop: v.Get("pop"), behavior: v.Get("behavior"), client: v.Get("client"), hops: n, inval: inval, staging: v.Get("staging")}, true
}

// hopAnswer is what a REC says about its answer to a tier request.
type hopAnswer struct {
	// rec names the REC that answered.
	rec string
	// result is its X-Cache result (Hit, Miss, RefreshHit, Error, Lambda...).
	result string
	// noStore is set when the asking tier must not store the answer (an
	// edge or function error).
	noStore bool
}

func (a hopAnswer) encode() string {
	v := url.Values{"rec": {a.rec}, "result": {a.result}}
	if a.noStore {
		v.Set("store", "0")
	}
	return v.Encode()
}

func parseHopAnswer(s string) (a hopAnswer, ok bool) {
	v, err := url.ParseQuery(s)
	if err != nil || v.Get("rec") == "" || v.Get("result") == "" {
		return hopAnswer{}, false
	}
	return hopAnswer{rec: v.Get("rec"), result: v.Get("result"), noStore: v.Get("store") == "0"}, true
}
