package edgenode

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/edgelab/edgelab/desired"
	"github.com/edgelab/edgelab/distribution"
	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edgenode/cache"
	"github.com/edgelab/edgelab/egress"
	"github.com/edgelab/edgelab/eventtype"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/signedurl"
)

// state is one immutable desired state compiled for serving. The node swaps
// it atomically; a request reads one state from start to end. A new state
// shares with the one it replaces every compiled distribution the revision
// did not touch (see compileChanges).
type state struct {
	revision int64
	gen      int64 // generation: one more than the state it replaced
	byDomain map[string]*dist
	wildcard *dist
	dists    map[string]*dist
	// inflight counts requests being served from this state; versions it
	// may run are unloaded only once it drains.
	inflight atomic.Int64
}

type fnKey struct {
	name    string
	version int64
}

func (k fnKey) String() string { return fmt.Sprintf("%s:%d", k.name, k.version) }

type dist struct {
	src       *edgelabv1.Distribution // what it was compiled from
	id        string
	domain    string // first domain, for edge.Info
	behaviors []*behavior
	origins   map[string]*originTarget
	// geo is the allow or deny list (nil: none); errorResponses the
	// custom error responses by status (policies.go).
	geo            *edgelabv1.GeoRestriction
	errorResponses map[int]*errorResponse
	// egress is where the distribution's functions may fetch: its origins
	// and egress rules (distribution.EgressPolicy).
	egress *egress.Policy
	// staging is the continuous deployment policy (nil: none; staging.go).
	staging *stagingRoute
}

type behavior struct {
	pattern   string
	target    *originTarget
	ttl       cache.Policy
	keyPolicy cache.KeyPolicy
	methods   map[string]bool // nil = all
	triggers  map[edge.EventType]*trigger
	// forward narrows what goes to the origin (nil: everything);
	// cfHeaders are the CloudFront-* headers to add (policies.go).
	forward    *forwardPolicy
	cfHeaders  []string
	respPolicy *edgelabv1.ResponseHeadersPolicy // nil: none (respheaderspolicy.go)
	// signed checks signed URLs and cookies (nil: public; signed.go).
	signed *signedurl.Verifier
}

type trigger struct {
	fn          fnKey
	includeBody bool
	label       string // "viewer-request=auth:3"
}

// originTarget is one origin or an origin group (primary + secondary).
type originTarget struct {
	id        string
	primary   *originConf
	secondary *originConf // nil for a single origin
	failover  map[int]bool
}

type originConf struct {
	id string
	// origin is request.origin as origin events show it (newOriginConf).
	origin         *edge.Origin
	connectTimeout time.Duration
	// region is the origin's region ("": the topology's home region), for
	// the latency model.
	region string
}

// compileChanges compiles the serving state for desired state ds from cur
// (nil: nothing served yet), where changed names what differs between the
// two. Only the distributions changed names, and those using a function
// version it names, are compiled again; the others are shared with cur.
// Every association must reference a version ds holds, and a domain is
// served by one distribution only. cur is not modified.
func compileChanges(cur *state, ds *desired.State, changed desired.Changed) (*state, error) {
	st := &state{revision: ds.Revision(), byDomain: map[string]*dist{}, dists: map[string]*dist{}}
	if cur != nil {
		st.byDomain, st.dists, st.wildcard = maps.Clone(cur.byDomain), maps.Clone(cur.dists), cur.wildcard
		st.gen = cur.gen + 1
	}
	affected := map[string]struct{}{}
	for _, k := range changed.Functions() {
		for _, id := range ds.Users(k) {
			affected[id] = struct{}{}
		}
	}
	for _, id := range changed.Distributions() {
		affected[id] = struct{}{}
	}
	ids := slices.Sorted(maps.Keys(affected))
	for _, id := range ids {
		if old, ok := st.dists[id]; ok {
			st.unrouteDist(old)
			delete(st.dists, id)
		}
	}
	for _, id := range ids {
		pd := ds.Distribution(id)
		if pd == nil {
			continue
		}
		d, err := compileDist(pd, ds)
		if err != nil {
			return nil, fmt.Errorf("distribution %q: %w", id, err)
		}
		if err := st.routeDist(d); err != nil {
			return nil, fmt.Errorf("distribution %q: %w", id, err)
		}
		st.dists[id] = d
	}
	return st, nil
}

// normDomain is the form domains are routed by.
func normDomain(dom string) string { return strings.ToLower(strings.TrimSpace(dom)) }

// routeDist routes d's domains to it, refusing one another distribution serves.
func (st *state) routeDist(d *dist) error {
	for _, dom := range d.src.GetDomains() {
		dom = normDomain(dom)
		if dom == "*" {
			if st.wildcard != nil && st.wildcard.id != d.id {
				return fmt.Errorf("domain \"*\" already served by %q", st.wildcard.id)
			}
			st.wildcard = d
			continue
		}
		if other, dup := st.byDomain[dom]; dup && other.id != d.id {
			return fmt.Errorf("domain %q already served by %q", dom, other.id)
		}
		st.byDomain[dom] = d
	}
	return nil
}

// unrouteDist removes the routes to d.
func (st *state) unrouteDist(d *dist) {
	for _, dom := range d.src.GetDomains() {
		dom = normDomain(dom)
		if dom == "*" && st.wildcard == d {
			st.wildcard = nil
		} else if st.byDomain[dom] == d {
			delete(st.byDomain, dom)
		}
	}
}

func compileDist(pd *edgelabv1.Distribution, ds *desired.State) (*dist, error) {
	d := &dist{src: pd, id: pd.GetId(), origins: map[string]*originTarget{}, egress: distribution.EgressPolicy(pd),
		staging: compileStaging(pd.GetContinuousDeployment())}
	if d.id == "" {
		return nil, fmt.Errorf("empty id")
	}
	if len(pd.GetDomains()) > 0 {
		d.domain = pd.GetDomains()[0]
	}
	confs := map[string]*originConf{}
	for _, o := range pd.GetOrigins() {
		oc, err := newOriginConf(o)
		if err != nil {
			return nil, err
		}
		confs[oc.id] = oc
		d.origins[oc.id] = &originTarget{id: oc.id, primary: oc}
	}
	for _, g := range pd.GetOriginGroups() {
		p, ok1 := confs[g.GetPrimary()]
		s, ok2 := confs[g.GetSecondary()]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("origin group %q: unknown primary %q or secondary %q", g.GetId(), g.GetPrimary(), g.GetSecondary())
		}
		if _, dup := d.origins[g.GetId()]; dup {
			return nil, fmt.Errorf("origin group %q: id already used", g.GetId())
		}
		fs := map[int]bool{}
		codes := g.GetFailoverStatus()
		if len(codes) == 0 {
			codes = distribution.DefaultFailoverStatus()
		}
		for _, c := range codes {
			fs[int(c)] = true
		}
		d.origins[g.GetId()] = &originTarget{id: g.GetId(), primary: p, secondary: s, failover: fs}
	}
	if len(pd.GetBehaviors()) == 0 {
		return nil, fmt.Errorf("no cache behaviors")
	}
	d.compileFeatures(pd)
	for i, pb := range pd.GetBehaviors() {
		b, err := compileBehavior(pb, d, ds)
		if err != nil {
			return nil, fmt.Errorf("behavior %d (%q): %w", i, pb.GetPath(), err)
		}
		d.behaviors = append(d.behaviors, b)
	}
	return d, nil
}

func compileBehavior(pb *edgelabv1.Behavior, d *dist, ds *desired.State) (*behavior, error) {
	b := &behavior{pattern: pb.GetPath(), ttl: cache.DefaultPolicy(), triggers: map[edge.EventType]*trigger{}}
	t, ok := d.origins[pb.GetOrigin()]
	if !ok {
		return nil, fmt.Errorf("unknown origin %q", pb.GetOrigin())
	}
	b.target = t
	b.compilePolicies(d.src, pb)
	if err := b.compileSigned(d.src, pb); err != nil {
		return nil, err
	}
	if cp := distribution.CachePolicyFor(d.src, pb); cp != nil {
		if cp.GetSet() || cp.GetDefaultTtl() != nil || cp.GetMaxTtl() != nil || cp.GetMinTtl() != nil {
			b.ttl.MinTTL = cp.GetMinTtl().AsDuration()
			if cp.GetDefaultTtl() != nil {
				b.ttl.DefaultTTL = cp.GetDefaultTtl().AsDuration()
			}
			if cp.GetMaxTtl() != nil {
				b.ttl.MaxTTL = cp.GetMaxTtl().AsDuration()
			}
		}
		b.keyPolicy = cache.KeyPolicy{QueryStrings: cp.GetQueryStrings(), Headers: cp.GetHeaders(), Cookies: cp.GetCookies()}
	}
	if len(pb.GetAllowedMethods()) > 0 {
		b.methods = map[string]bool{}
		for _, m := range pb.GetAllowedMethods() {
			b.methods[strings.ToUpper(m)] = true
		}
	}
	for _, a := range pb.GetFunctions() {
		ev := eventtype.FromProto(a.GetEventType())
		if !ev.Valid() {
			return nil, fmt.Errorf("association with unknown event type %v", a.GetEventType())
		}
		if _, dup := b.triggers[ev]; dup {
			return nil, fmt.Errorf("two associations for %s", ev)
		}
		k := fnKey{a.GetFunction(), a.GetVersion()}
		if ds.Function(desired.Key{Name: k.name, Version: k.version}) == nil {
			return nil, fmt.Errorf("%s: function version %s is not in the snapshot", ev, k)
		}
		b.triggers[ev] = &trigger{fn: k, includeBody: a.GetIncludeBody(), label: string(ev) + "=" + k.String()}
	}
	return b, nil
}

// distFor picks the distribution for a Host header (port stripped, case-insensitive).
func (st *state) distFor(host string) *dist {
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.Contains(h, "]") {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if d, ok := st.byDomain[host]; ok {
		return d
	}
	return st.wildcard
}

// behaviorFor picks the first behavior whose pattern matches path; the
// "default" behavior matches everything.
func (d *dist) behaviorFor(path string) *behavior {
	for _, b := range d.behaviors {
		if distribution.Match(b.pattern, path) {
			return b
		}
	}
	return nil
}

// codeFromProto converts a published version to what the sandbox loads.
func codeFromProto(fv *edgelabv1.FunctionVersion) sandbox.Code {
	files := make(map[string][]byte, len(fv.GetFiles()))
	for _, f := range fv.GetFiles() {
		files[f.GetName()] = f.GetContent()
	}
	return sandbox.Code{
		Name:     fv.GetName(),
		Version:  fv.GetVersion(),
		Files:    files,
		SHA256:   fv.GetSha256(),
		MemoryMB: int(fv.GetConfig().GetMemoryMb()),
		Timeout:  fv.GetConfig().GetTimeout().AsDuration(),
	}
}
