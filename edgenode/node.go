package edgenode

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"maps"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/edgelab/edgelab/desired"
	"github.com/edgelab/edgelab/edgenode/cache"
	"github.com/edgelab/edgelab/edgenode/replica"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

// Node is one edge location: a caching reverse proxy running function
// triggers. It implements http.Handler and the replication client's Applier
// and ChangeApplier.
// Safe for concurrent use.
type Node struct {
	cfg     Config
	runner  sandbox.Runner
	closer  io.Closer // the runner when the node built it
	st      atomic.Pointer[state]
	cache   *cache.Cache
	flights singleflight.Group
	metrics *metrics
	origins *transports
	// faults holds the chaos faults the node acts on (faults.go); nil = none.
	faults atomic.Pointer[faultState]
	// tiers is the node's place in the two tiers (tier.go).
	tiers *tiers
	// fetchLatency is what each edge.Fetch of a function waits by the
	// latency model, from the node's region (zero: the model is off).
	fetchLatency sandbox.FetchLatency

	applyMu sync.Mutex
	loaded  map[fnKey]string // fn -> sha256 loaded in the runner; guarded by applyMu
	// held is what loaded holds, with memory limits, for the metrics
	// (written under applyMu, read without).
	held      atomic.Pointer[[]heldVersion]
	served    *desired.State  // the desired state st was compiled from; guarded by applyMu
	seenInval map[string]bool // applied invalidation ids; guarded by applyMu
	// invalRev maps a distribution to the revision of the newest
	// invalidation of it applied (read per tier request; replaced, never
	// modified, under applyMu).
	invalRev atomic.Pointer[map[string]int64]
	retiring map[*state]bool // replaced states not yet drained; guarded by applyMu
	// since is the generation of the first state using each loaded
	// version; unloading waits for the states from there to its last
	// user to drain. Both guarded by applyMu.
	since   map[fnKey]int64
	pending map[fnKey]genRange // versions no longer used, waiting to be unloaded

	// now is the clock for cache freshness (tests move it).
	now func() time.Time
	// testHookMiss, when set, is called by a GET/HEAD miss before it joins
	// the singleflight group (tests count collapsed requests).
	testHookMiss func()

	ridPrefix string
	// cdSeed hashes request ids into continuous deployment draws.
	cdSeed maphash.Seed
	ridSeq atomic.Uint64
	// hdr are the node's pre-rendered response header values.
	hdr staticHeaders
	// reqCount counts viewer requests by result and status.
	reqCount *requestCounters
	// invMetrics records invocations by function, event and outcome.
	invMetrics *invocationMetrics

	bg      sync.WaitGroup // unloadAfterDrain goroutines
	closing chan struct{}

	ln        net.Listener
	viewer    *viewerServer
	closeOnce sync.Once
	closeErr  error
}

// New builds a node and binds its listener (so Addr works before Run). The
// node serves 503-free "no distribution" answers (403) until the first Apply.
func New(cfg Config) (*Node, error) {
	cfg = cfg.withDefaults()
	n := &Node{
		cfg:       cfg,
		runner:    cfg.Runner,
		cache:     cache.New(cfg.CacheBytes),
		loaded:    map[fnKey]string{},
		served:    desired.New(),
		seenInval: map[string]bool{},
		retiring:  map[*state]bool{},
		since:     map[fnKey]int64{},
		pending:   map[fnKey]genRange{},
		now:       time.Now,
		closing:   make(chan struct{}),
	}
	if n.runner == nil {
		r, closer, err := newDefaultRunner(cfg, n.FetchFault)
		if err != nil {
			return nil, fmt.Errorf("edgenode: building sandbox runner: %w", err)
		}
		n.runner, n.closer = r, closer
	}
	m, err := newMetrics(cfg.Registerer, cfg.NodeID, n.cache, heldCollector{held: n.heldVersions, used: n.workerMemory})
	if err != nil {
		n.closeRunner()
		return nil, fmt.Errorf("edgenode: registering metrics: %w", err)
	}
	n.metrics = m
	n.reqCount = &requestCounters{vec: m.requests, dur: m.requestDur}
	n.invMetrics = &invocationMetrics{m: m}
	n.hdr = newStaticHeaders(cfg.NodeID, cfg.PoP)
	n.origins = newTransports(cfg.Origin)
	n.tiers = newTiers(cfg)
	n.fetchLatency.Default, n.fetchLatency.ByHost = cfg.Latency.FetchTable(cfg.Region)
	var rb [6]byte
	_, _ = rand.Read(rb[:])
	n.ridPrefix = base64.RawURLEncoding.EncodeToString(rb[:])
	n.cdSeed = maphash.MakeSeed()

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		n.closeRunner()
		return nil, fmt.Errorf("edgenode: listen %s: %w", cfg.ListenAddr, err)
	}
	n.ln = ln
	n.viewer = newViewerServer(n, ln)
	return n, nil
}

// Addr is the address the node listens on.
func (n *Node) Addr() string { return n.ln.Addr().String() }

// URL is "http://" + Addr().
func (n *Node) URL() string { return "http://" + n.Addr() }

// Run serves viewers until ctx is done or Close is called, then shuts the
// server down gracefully (in-flight requests get up to 5s).
func (n *Node) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- n.viewer.srv.Serve(n.ln) }()
	select {
	case err := <-errc:
		select {
		case <-n.closing:
			return nil // Close stopped the server
		default:
		}
		if err == nil {
			return nil
		}
		return fmt.Errorf("edgenode: serve: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := n.viewer.shutdown(sctx)
		if errors.Is(err, context.DeadlineExceeded) {
			// The grace period is over: close the remaining connections.
			n.cfg.Logger.Warn("edgenode: graceful shutdown timed out; closing remaining connections")
			err = nil
		}
		n.viewer.close()
		<-errc
		if err != nil {
			return fmt.Errorf("edgenode: shutdown: %w", err)
		}
		return nil
	}
}

// Close stops the server (closing connections), the origin pools and, when
// the node built it, the sandbox runner. It is safe to call more than once.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		close(n.closing)
		n.viewer.close()
		n.bg.Wait()
		var err error
		if cerr := n.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
		n.origins.close()
		n.closeErr = errors.Join(err, n.closeRunner())
	})
	return n.closeErr
}

func (n *Node) closeRunner() error {
	if n.closer != nil {
		return n.closer.Close()
	}
	return nil
}

// Workers is the number of sandbox worker processes running for this
// node's functions (0 with a runner that does not report them).
func (n *Node) Workers() int {
	if r, ok := n.runner.(interface{ WorkerPIDs() []int }); ok {
		return len(r.WorkerPIDs())
	}
	return 0
}

// Revision is the revision of the applied state (0 before the first Apply).
func (n *Node) Revision() int64 {
	if st := n.st.Load(); st != nil {
		return st.revision
	}
	return 0
}

// Apply installs snap as the node's complete desired state and applies the
// invalidations. It compares snap with the state being served and goes on
// as ApplyChanges with what differs. A nil snap keeps the current state
// and only applies the invalidations.
func (n *Node) Apply(ctx context.Context, snap *edgelabv1.Snapshot, invalidations []*edgelabv1.Invalidation) error {
	n.applyMu.Lock()
	defer n.applyMu.Unlock()
	if snap != nil {
		ds, err := desired.FromSnapshot(snap)
		if err != nil {
			return err
		}
		if err := n.applyDesired(ctx, ds, desired.Diff(n.served, ds)); err != nil {
			return err
		}
	}
	n.applyInvalidations(invalidations)
	return nil
}

// ApplyChanges implements replica.ChangeApplier: ds is the complete desired
// state and changed what differs from the last state applied. Only what
// changed is compiled and loaded: new function versions are loaded into
// the runner first; if one fails (e.g. does not compile) ApplyChanges
// returns an error naming it and the node keeps serving the previous
// state. The new state is then swapped in atomically and versions no
// longer referenced are unloaded once the old state drains. Invalidations
// are applied once per id. A revision older than the current one is
// refused.
func (n *Node) ApplyChanges(ctx context.Context, ds *desired.State, changed desired.Changed, invalidations []*edgelabv1.Invalidation) error {
	n.applyMu.Lock()
	defer n.applyMu.Unlock()
	if err := n.applyDesired(ctx, ds, changed); err != nil {
		return err
	}
	n.applyInvalidations(invalidations)
	return nil
}

func (n *Node) applyInvalidations(invalidations []*edgelabv1.Invalidation) {
	var revs map[string]int64
	for _, inv := range invalidations {
		if inv.GetId() != "" && n.seenInval[inv.GetId()] {
			continue
		}
		if revs == nil {
			revs = make(map[string]int64, len(n.invalidations())+1)
			maps.Copy(revs, n.invalidations())
		}
		revs[inv.GetDistributionId()] = max(revs[inv.GetDistributionId()], inv.GetRevision())
		removed := n.cache.Invalidate(inv.GetDistributionId(), inv.GetPaths())
		if inv.GetId() != "" {
			n.seenInval[inv.GetId()] = true
		}
		n.cfg.Logger.Info("invalidation applied", "node", n.cfg.NodeID, "distribution", inv.GetDistributionId(),
			"id", inv.GetId(), "paths", inv.GetPaths(), "removed", removed)
	}
	if revs != nil {
		n.invalRev.Store(&revs)
	}
}

// invalidations maps a distribution to the revision of the newest
// invalidation of it the node applied.
func (n *Node) invalidations() map[string]int64 {
	if m := n.invalRev.Load(); m != nil {
		return *m
	}
	return nil
}

// invalidatedAt is the revision of the newest invalidation of
// distribution id the node applied (0: none). A PoP sends it to its REC,
// which does not answer from a cache that has not applied it.
func (n *Node) invalidatedAt(id string) int64 { return n.invalidations()[id] }

// applyDesired compiles and installs ds by change; see ApplyChanges.
func (n *Node) applyDesired(ctx context.Context, ds *desired.State, changed desired.Changed) error {
	cur := n.st.Load()
	if cur != nil && ds.Revision() < cur.revision {
		return fmt.Errorf("snapshot revision %d is older than applied revision %d", ds.Revision(), cur.revision)
	}
	st, err := compileChanges(cur, ds, changed)
	if err != nil {
		return fmt.Errorf("revision %d: %w", ds.Revision(), err)
	}
	fresh, err := n.loadChanged(ctx, ds, changed)
	if err != nil {
		return fmt.Errorf("revision %d: %w", ds.Revision(), err)
	}
	n.st.Store(st)
	n.followServed(ds, changed)
	for _, k := range fresh {
		n.loaded[k] = ds.Function(desired.Key{Name: k.name, Version: k.version}).GetSha256()
		switch r, ok := n.pending[k]; {
		case ok: // back before it was unloaded: older states may still run it
			n.since[k] = r.from
			delete(n.pending, k)
		case n.since[k] == 0:
			n.since[k] = st.gen
		}
	}
	for _, dk := range changed.Functions() {
		k := fnKey{dk.Name, dk.Version}
		if _, ok := n.loaded[k]; ok && ds.Function(dk) == nil {
			n.pending[k] = genRange{from: n.since[k], to: cur.gen}
			delete(n.loaded, k)
			delete(n.since, k)
		}
	}
	n.publishHeld(ds)
	if cur != nil {
		n.unloadAfterDrain(cur)
	}
	for _, id := range changed.Distributions() {
		if _, ok := st.dists[id]; !ok && cur != nil && cur.dists[id] != nil {
			n.cache.Invalidate(id, []string{"/*"})
		}
	}
	n.cfg.Logger.Info("state applied", "node", n.cfg.NodeID, "revision", st.revision,
		"distributions", len(st.dists), "functions", ds.NumFunctions(), "changed", changed.Len(), "loaded", len(fresh))
	return nil
}

// followServed brings n.served to ds by the objects changed names.
func (n *Node) followServed(ds *desired.State, changed desired.Changed) {
	for _, k := range changed.Functions() {
		if fv := ds.Function(k); fv != nil {
			n.served.PutFunction(fv)
		} else {
			n.served.DeleteFunction(k)
		}
	}
	for _, id := range changed.Distributions() {
		if d := ds.Distribution(id); d != nil {
			n.served.PutDistribution(d)
		} else {
			n.served.DeleteDistribution(id)
		}
	}
	n.served.SetRevision(ds.Revision())
}

// loadChanged loads into the runner the changed versions st holds that are
// not loaded with their content already. On an error it unloads what it
// loaded and names the version.
func (n *Node) loadChanged(ctx context.Context, ds *desired.State, changed desired.Changed) ([]fnKey, error) {
	var fresh []fnKey
	for _, dk := range changed.Functions() {
		k := fnKey{dk.Name, dk.Version}
		fv := ds.Function(dk)
		if fv == nil {
			continue
		}
		if sha, ok := n.loaded[k]; ok && sha == fv.GetSha256() {
			continue
		}
		if err := n.runner.Load(ctx, codeFromProto(fv)); err != nil {
			for _, f := range fresh {
				if _, keep := n.loaded[f]; !keep {
					n.unload(f)
				}
			}
			return nil, fmt.Errorf("loading %s: %w", k, err)
		}
		fresh = append(fresh, k)
	}
	return fresh, nil
}

// acquireState returns the current state with its in-flight count taken;
// call release when the request is done. The re-check makes sure a request
// never runs on a state whose drain has already been observed.
func (n *Node) acquireState() *state {
	for {
		st := n.st.Load()
		if st == nil {
			return nil
		}
		st.inflight.Add(1)
		if n.st.Load() == st {
			return st
		}
		st.inflight.Add(-1)
	}
}

// genRange is the generations of the states that may run a version.
type genRange struct{ from, to int64 }

// unloadAfterDrain retires old: once its in-flight requests are done (at
// once, or in a goroutine Close waits for) it unloads every pending version
// no state that may run it is still draining.
func (n *Node) unloadAfterDrain(old *state) {
	if old.inflight.Load() == 0 {
		// A request that takes old from now on sees it replaced and lets
		// go (acquireState), so old is drained.
		n.sweepPending()
		return
	}
	n.retiring[old] = true
	n.bg.Add(1)
	go func() {
		defer n.bg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for old.inflight.Load() > 0 {
			select {
			case <-n.closing:
				return
			case <-tick.C:
			}
		}
		n.applyMu.Lock()
		defer n.applyMu.Unlock()
		delete(n.retiring, old)
		n.sweepPending()
	}()
}

// sweepPending unloads the pending versions whose generation range no
// retiring state falls in. Called with applyMu held.
func (n *Node) sweepPending() {
next:
	for k, r := range n.pending {
		for st := range n.retiring {
			if st.gen >= r.from && st.gen <= r.to {
				continue next
			}
		}
		delete(n.pending, k)
		n.unload(k)
	}
}

// publishHeld records the versions loaded holds, from ds, for
// heldVersions. Called with applyMu held.
func (n *Node) publishHeld(ds *desired.State) {
	out := make([]heldVersion, 0, len(n.loaded))
	for k := range n.loaded {
		mb := int(ds.Function(desired.Key{Name: k.name, Version: k.version}).GetConfig().GetMemoryMb())
		if mb <= 0 {
			mb = max(n.cfg.Profile.Viewer.MemoryMB, n.cfg.Profile.Origin.MemoryMB)
		}
		out = append(out, heldVersion{name: k.name, version: k.version, memoryMB: mb})
	}
	n.held.Store(&out)
}

// heldVersions lists the versions the node holds (metrics).
func (n *Node) heldVersions() []heldVersion {
	if h := n.held.Load(); h != nil {
		return *h
	}
	return nil
}

// memoryReporter is implemented by runners that know their workers'
// memory (*sandbox.Manager).
type memoryReporter interface {
	WorkerMemory() []sandbox.WorkerMemory
}

// workerMemory lists the runner's workers' memory (none when the runner
// does not report it).
func (n *Node) workerMemory() []sandbox.WorkerMemory {
	if mr, ok := n.runner.(memoryReporter); ok {
		return mr.WorkerMemory()
	}
	return nil
}

// unload drops a version from the runner and its series from the metrics.
func (n *Node) unload(k fnKey) {
	n.runner.Unload(k.name, k.version)
	n.invMetrics.forget(k.name, k.version)
}

// newRequestID returns a per-node unique request id.
func (n *Node) newRequestID() string {
	seq := n.ridSeq.Add(1)
	var buf [32]byte // the id is built on the stack: one allocation, the string
	b := append(buf[:0], n.ridPrefix...)
	b = append(b, '-')
	b = strconv.AppendUint(b, seq, 16)
	return string(b)
}

var _ replica.ChangeApplier = (*Node)(nil)
