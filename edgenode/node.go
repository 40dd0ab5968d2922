package edgenode

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/edgelab/edgelab/edgenode/cache"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

// Node is one edge location: a caching reverse proxy running function
// triggers. It implements http.Handler and the replication client's Applier.
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

	applyMu   sync.Mutex
	loaded    map[fnKey]string // fn -> sha256 loaded in the runner; guarded by applyMu
	seenInval map[string]bool  // applied invalidation ids; guarded by applyMu
	retiring  map[*state]bool  // replaced states not yet drained; guarded by applyMu

	// now is the clock for cache freshness (tests move it).
	now func() time.Time
	// testHookMiss, when set, is called by a GET/HEAD miss before it joins
	// the singleflight group (tests count collapsed requests).
	testHookMiss func()

	ridPrefix string
	ridSeq    atomic.Uint64
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
		seenInval: map[string]bool{},
		retiring:  map[*state]bool{},
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
	m, err := newMetrics(cfg.Registerer, cfg.NodeID, n.cache)
	if err != nil {
		n.closeRunner()
		return nil, fmt.Errorf("edgenode: registering metrics: %w", err)
	}
	n.metrics = m
	n.reqCount = &requestCounters{vec: m.requests}
	n.invMetrics = &invocationMetrics{m: m}
	n.hdr = newStaticHeaders(cfg.NodeID, cfg.PoP)
	n.origins = newTransports(cfg.Origin)
	var rb [6]byte
	_, _ = rand.Read(rb[:])
	n.ridPrefix = base64.RawURLEncoding.EncodeToString(rb[:])

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
// invalidations. New function versions are loaded into the runner first; if
// one fails (e.g. does not compile) Apply returns an error naming it and the
// node keeps serving the previous state. Distributions are then swapped in
// atomically and versions no longer referenced are unloaded. A nil snap
// keeps the current state and only applies the invalidations. Invalidations
// are applied once per id. A snapshot older than the current revision is
// refused.
func (n *Node) Apply(ctx context.Context, snap *edgelabv1.Snapshot, invalidations []*edgelabv1.Invalidation) error {
	n.applyMu.Lock()
	defer n.applyMu.Unlock()
	if snap != nil {
		if err := n.applySnapshot(ctx, snap); err != nil {
			return err
		}
	}
	for _, inv := range invalidations {
		if inv.GetId() != "" && n.seenInval[inv.GetId()] {
			continue
		}
		removed := n.cache.Invalidate(inv.GetDistributionId(), inv.GetPaths())
		if inv.GetId() != "" {
			n.seenInval[inv.GetId()] = true
		}
		n.cfg.Logger.Info("invalidation applied", "node", n.cfg.NodeID, "distribution", inv.GetDistributionId(),
			"id", inv.GetId(), "paths", inv.GetPaths(), "removed", removed)
	}
	return nil
}

func (n *Node) applySnapshot(ctx context.Context, snap *edgelabv1.Snapshot) error {
	cur := n.st.Load()
	if cur != nil && snap.GetRevision() < cur.revision {
		return fmt.Errorf("snapshot revision %d is older than applied revision %d", snap.GetRevision(), cur.revision)
	}
	st, err := compileState(snap)
	if err != nil {
		return fmt.Errorf("revision %d: %w", snap.GetRevision(), err)
	}
	var fresh []fnKey
	for k, fv := range st.versions {
		if sha, ok := n.loaded[k]; ok && sha == fv.GetSha256() {
			continue
		}
		if err := n.runner.Load(ctx, codeFromProto(fv)); err != nil {
			for _, f := range fresh {
				if _, keep := n.loaded[f]; !keep {
					n.runner.Unload(f.name, f.version)
				}
			}
			return fmt.Errorf("revision %d: loading %s: %w", snap.GetRevision(), k, err)
		}
		fresh = append(fresh, k)
	}
	n.st.Store(st)
	for _, k := range fresh {
		n.loaded[k] = st.versions[k].GetSha256()
	}
	var gone []fnKey
	for k := range n.loaded {
		if _, ok := st.versions[k]; !ok {
			gone = append(gone, k)
			delete(n.loaded, k)
		}
	}
	if len(gone) > 0 {
		n.unloadAfterDrain(cur, gone)
	}
	if cur != nil {
		for id := range cur.dists {
			if _, ok := st.dists[id]; !ok {
				n.cache.Invalidate(id, []string{"/*"})
			}
		}
	}
	n.cfg.Logger.Info("state applied", "node", n.cfg.NodeID, "revision", st.revision,
		"distributions", len(st.dists), "functions", len(st.versions), "loaded", len(fresh))
	return nil
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

// unloadAfterDrain unloads versions the old state alone referenced once
// its in-flight requests are done (in a goroutine Close waits for), unless a
// later Apply loaded them again.
func (n *Node) unloadAfterDrain(old *state, gone []fnKey) {
	n.retiring[old] = true
	n.bg.Add(1)
	go func() {
		defer n.bg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for old != nil && old.inflight.Load() > 0 {
			select {
			case <-n.closing:
				return
			case <-tick.C:
			}
		}
		n.applyMu.Lock()
		defer n.applyMu.Unlock()
		delete(n.retiring, old)
	next:
		for _, k := range gone {
			if _, back := n.loaded[k]; back {
				continue
			}
			for st := range n.retiring {
				if _, used := st.versions[k]; used {
					continue next // that state's own drain unloads it
				}
			}
			n.runner.Unload(k.name, k.version)
		}
	}()
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
