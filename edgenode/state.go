package edgenode

import (
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/edgelab/edgelab/eventtype"

	"github.com/edgelab/edgelab/distribution"
	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edgenode/cache"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

// state is one immutable desired state compiled for serving. The node swaps
// it atomically; a request reads one state from start to end.
type state struct {
	revision int64
	byDomain map[string]*dist
	wildcard *dist
	// versions are the function versions the state references, by fnKey.
	versions map[fnKey]*edgelabv1.FunctionVersion
	dists    map[string]*dist
	// inflight counts requests being served from this state; versions it
	// alone references are unloaded only once it drains.
	inflight atomic.Int64
}

type fnKey struct {
	name    string
	version int64
}

func (k fnKey) String() string { return fmt.Sprintf("%s:%d", k.name, k.version) }

type dist struct {
	id        string
	domain    string // first domain, for edge.Info
	behaviors []*behavior
	origins   map[string]*originTarget
}

type behavior struct {
	pattern   string
	target    *originTarget
	ttl       cache.Policy
	keyPolicy cache.KeyPolicy
	methods   map[string]bool // nil = all
	triggers  map[edge.EventType]*trigger
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
	id             string
	base           *url.URL
	connectTimeout time.Duration
	readTimeout    time.Duration
	customHeaders  map[string]string
}

// compileState validates a snapshot and turns it into a serving state.
// It checks that every association references a version in the snapshot.
func compileState(snap *edgelabv1.Snapshot) (*state, error) {
	st := &state{
		revision: snap.GetRevision(),
		byDomain: map[string]*dist{},
		versions: map[fnKey]*edgelabv1.FunctionVersion{},
		dists:    map[string]*dist{},
	}
	for _, fv := range snap.GetFunctions() {
		st.versions[fnKey{fv.GetName(), fv.GetVersion()}] = fv
	}
	for _, pd := range snap.GetDistributions() {
		d, err := compileDist(pd, st.versions)
		if err != nil {
			return nil, fmt.Errorf("distribution %q: %w", pd.GetId(), err)
		}
		if _, dup := st.dists[d.id]; dup {
			return nil, fmt.Errorf("distribution %q: duplicate id", d.id)
		}
		st.dists[d.id] = d
		for _, dom := range pd.GetDomains() {
			dom = strings.ToLower(strings.TrimSpace(dom))
			if dom == "*" {
				if st.wildcard != nil {
					return nil, fmt.Errorf("distribution %q: domain \"*\" already served by %q", d.id, st.wildcard.id)
				}
				st.wildcard = d
				continue
			}
			if other, dup := st.byDomain[dom]; dup {
				return nil, fmt.Errorf("distribution %q: domain %q already served by %q", d.id, dom, other.id)
			}
			st.byDomain[dom] = d
		}
	}
	return st, nil
}

func compileDist(pd *edgelabv1.Distribution, versions map[fnKey]*edgelabv1.FunctionVersion) (*dist, error) {
	d := &dist{id: pd.GetId(), origins: map[string]*originTarget{}}
	if d.id == "" {
		return nil, fmt.Errorf("empty id")
	}
	if len(pd.GetDomains()) > 0 {
		d.domain = pd.GetDomains()[0]
	}
	confs := map[string]*originConf{}
	for _, o := range pd.GetOrigins() {
		u, err := url.Parse(o.GetUrl())
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("origin %q: bad url %q", o.GetId(), o.GetUrl())
		}
		oc := &originConf{
			id:             o.GetId(),
			base:           u,
			connectTimeout: o.GetConnectTimeout().AsDuration(),
			readTimeout:    o.GetReadTimeout().AsDuration(),
			customHeaders:  o.GetCustomHeaders(),
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
	for i, pb := range pd.GetBehaviors() {
		b, err := compileBehavior(pb, d, versions)
		if err != nil {
			return nil, fmt.Errorf("behavior %d (%q): %w", i, pb.GetPath(), err)
		}
		d.behaviors = append(d.behaviors, b)
	}
	return d, nil
}

func compileBehavior(pb *edgelabv1.Behavior, d *dist, versions map[fnKey]*edgelabv1.FunctionVersion) (*behavior, error) {
	b := &behavior{pattern: pb.GetPath(), ttl: cache.DefaultPolicy(), triggers: map[edge.EventType]*trigger{}}
	t, ok := d.origins[pb.GetOrigin()]
	if !ok {
		return nil, fmt.Errorf("unknown origin %q", pb.GetOrigin())
	}
	b.target = t
	if cp := pb.GetCache(); cp != nil {
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
		if _, ok := versions[k]; !ok {
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
