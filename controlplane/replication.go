package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/sync/errgroup"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/store"
	"github.com/edgelab/edgelab/topology"
)

// ReplicatorConfig configures a Replicator. Zero values take the defaults named per field.
type ReplicatorConfig struct {
	// KV, Watcher and Lease are the etcd client (a *clientv3.Client satisfies all three). Required.
	KV      clientv3.KV
	Watcher clientv3.Watcher
	Lease   clientv3.Lease
	// Keys is the etcd key layout; the zero value means store.NewKeys("").
	Keys store.Keys
	// ServerID names this replica in node records and messages. Required.
	ServerID string
	// Topology drives the delay model; nil means topology.Default().
	Topology *topology.Topology
	// Profile is the delay profile name; "" means "default". "instant" disables delays.
	Profile string
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the stream metrics; nil means a private registry
	// (metrics are then not exported). Never the global registry.
	Registerer prometheus.Registerer
	// Now is the clock for timestamps; nil means time.Now.
	Now func() time.Time
	// FlushInterval coalesces node-record writes; default 50ms.
	FlushInterval time.Duration
	// NodeTTL is the node-record lease TTL and how long a detached node's
	// record stays; default 10s.
	NodeTTL time.Duration
	// PingInterval is how often the stream pings a node; a node silent for 3
	// intervals is dropped. Default 5s.
	PingInterval time.Duration
	// HistoryLimit is how many deltas the replica keeps for resuming nodes; default 4096.
	HistoryLimit int
	// LogTTL is the lease of stored function log lines; default 1h.
	LogTTL time.Duration
	// LogCap bounds stored log lines per region and function; default 1000.
	LogCap int
	// Faults tells which chaos faults are active (partition, replication
	// delay/drop/duplicate); nil means none. Chaos.Faults() provides one.
	// When it also implements FaultLister (the FaultSet does), the faults
	// nodes act on themselves (NodeSideFaultKinds) are forwarded to them in
	// FaultUpdate messages.
	Faults ReplicationFaults
	// MaxUpdateBytes bounds the encoded desired state (CheckDeliverable);
	// default DefaultMaxUpdateBytes.
	MaxUpdateBytes int64
	// TrustHello takes a node's id and region from its Hello. Only for a
	// lab run with --insecure: otherwise the caller's certificate (the
	// access.Principal the server's guard put in the stream's context)
	// names the node, and a Hello that contradicts it is refused.
	TrustHello bool
}

// noFaults is the ReplicationFaults used when none is configured.
type noFaults struct{ never chan struct{} }

func (n noFaults) ForNode(string, string) (NodeFaults, <-chan struct{}) { return NodeFaults{}, n.never }

// Replicator is the control-plane side of replication: it implements
// ReplicationService.Stream, records per-node progress and serves GetStatus,
// ListNodes, GetLogs and StreamLogs. Run must be running for streams to make
// progress. Safe for concurrent use.
//
//	etcd state/ --watch--> hub (state + delta history) --notify--> stream goroutine per node
//	                                                                 | delay queue (topology profile)
//	                                                                 v
//	node <---- Snapshot / Delta / Ping / FaultUpdate -------------- Send
//	node ----> Hello / Ack / Heartbeat / LogBatch --> recv --> nodeRegistry --(50ms batches)--> etcd nodes/
//	                                                       \-> logStore --(batches)--> etcd logs/
type Replicator struct {
	edgelabv1.UnimplementedReplicationServiceServer

	cfg     ReplicatorConfig
	log     *slog.Logger
	now     func() time.Time
	top     *topology.Topology
	profile topology.Profile
	hub     *hub
	nodes   *nodeRegistry
	logs    *logStore
	metrics *replicationMetrics

	closing   chan struct{}
	closeOnce sync.Once
	mu        sync.Mutex
	runDone   chan struct{} // closed when Run returns; nil before Run
}

var _ edgelabv1.ReplicationServiceServer = (*Replicator)(nil)

// NewReplicator validates cfg, applies defaults and registers metrics.
func NewReplicator(cfg ReplicatorConfig) (*Replicator, error) {
	if cfg.KV == nil || cfg.Watcher == nil || cfg.Lease == nil {
		return nil, errors.New("replicator: KV, Watcher and Lease are required")
	}
	if cfg.ServerID == "" {
		return nil, errors.New("replicator: ServerID is required")
	}
	if cfg.Keys == (store.Keys{}) {
		cfg.Keys = store.NewKeys("")
	}
	if cfg.Topology == nil {
		cfg.Topology = topology.Default()
	}
	if cfg.Profile == "" {
		cfg.Profile = "default"
	}
	profile, err := cfg.Topology.Profile(cfg.Profile)
	if err != nil {
		return nil, fmt.Errorf("replicator: %w", err)
	}
	cfg.applyDefaults()
	log := cfg.Logger.With("component", "replicator", "server", cfg.ServerID)
	r := &Replicator{
		cfg: cfg, log: log, now: cfg.Now, top: cfg.Topology, profile: profile,
		hub:     newHub(cfg.KV, cfg.Watcher, cfg.Keys, cfg.ServerID, log, cfg.Now, cfg.HistoryLimit),
		nodes:   newNodeRegistry(cfg.KV, cfg.Keys, cfg.ServerID, log, cfg.Now, cfg.NodeTTL),
		logs:    newLogStore(cfg.KV, cfg.Watcher, cfg.Lease, cfg.Keys, cfg.Topology, log, cfg.LogCap),
		closing: make(chan struct{}),
	}
	if r.metrics, err = newReplicationMetrics(r, cfg.Registerer); err != nil {
		return nil, fmt.Errorf("replicator: registering metrics: %w", err)
	}
	return r, nil
}

// applyDefaults fills the zero fields not needed to pick the delay profile.
func (cfg *ReplicatorConfig) applyDefaults() {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 50 * time.Millisecond
	}
	if cfg.NodeTTL <= 0 {
		cfg.NodeTTL = 10 * time.Second
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 5 * time.Second
	}
	if cfg.HistoryLimit <= 0 {
		cfg.HistoryLimit = 4096
	}
	if cfg.LogTTL <= 0 {
		cfg.LogTTL = time.Hour
	}
	if cfg.LogCap <= 0 {
		cfg.LogCap = 1000
	}
	if cfg.MaxUpdateBytes <= 0 {
		cfg.MaxUpdateBytes = DefaultMaxUpdateBytes
	}
	if cfg.Faults == nil {
		cfg.Faults = noFaults{never: make(chan struct{})}
	}
}

// Run follows etcd and flushes node records and logs until ctx ends or Close
// is called. It returns nil on a clean stop.
func (r *Replicator) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.runDone != nil {
		r.mu.Unlock()
		return errors.New("replicator: Run called twice")
	}
	r.runDone = make(chan struct{})
	r.mu.Unlock()
	defer close(r.runDone)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-r.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return r.hub.run(gctx) })
	g.Go(func() error { return r.flushLoop(gctx) })
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Close stops Run and every open stream, and waits for Run to return.
func (r *Replicator) Close() {
	r.closeOnce.Do(func() { close(r.closing) })
	r.mu.Lock()
	done := r.runDone
	r.mu.Unlock()
	if done != nil {
		<-done
	}
}

// flushLoop owns the node-record lease and writes node records and logs in
// coalesced batches.
func (r *Replicator) flushLoop(ctx context.Context) error {
	var lease clientv3.LeaseID
	var keepAlive <-chan *clientv3.LeaseKeepAliveResponse
	var kaCancel context.CancelFunc = func() {}
	defer func() { kaCancel() }()
	ticker := time.NewTicker(r.cfg.FlushInterval)
	defer ticker.Stop()
	last := time.Time{}
	for {
		if lease == 0 {
			if lease, keepAlive, kaCancel = r.grantNodeLease(ctx); ctx.Err() != nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-keepAlive:
			if !ok {
				r.log.Warn("node lease lost; granting a new one")
				kaCancel()
				lease, keepAlive = 0, nil
			}
			continue
		case <-ticker.C:
		case <-r.nodes.kick:
			// Coalesce: never flush more often than FlushInterval.
			if wait := r.cfg.FlushInterval - time.Since(last); wait > 0 {
				if !sleepCtx(ctx, wait) {
					return nil
				}
			}
		}
		last = time.Now()
		if lease == 0 {
			continue
		}
		if err := r.nodes.flush(ctx, lease); err != nil && ctx.Err() == nil {
			r.log.Warn("flushing node records", "err", err)
			if errors.Is(err, rpctypes.ErrLeaseNotFound) {
				kaCancel()
				lease, keepAlive = 0, nil
			}
		}
		if err := r.logs.flush(ctx, r.cfg.LogTTL); err != nil && ctx.Err() == nil {
			r.log.Warn("flushing function logs", "err", err)
		}
	}
}

// grantNodeLease grants the node-record lease and starts its keepalive
// (cancel stops it); lease is 0 when either failed.
func (r *Replicator) grantNodeLease(ctx context.Context) (lease clientv3.LeaseID, keepAlive <-chan *clientv3.LeaseKeepAliveResponse, cancel context.CancelFunc) {
	resp, err := r.cfg.Lease.Grant(ctx, max(int64(r.cfg.NodeTTL/time.Second), 1))
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("granting node lease failed", "err", err)
		}
		return 0, nil, func() {}
	}
	kctx, cancel := context.WithCancel(ctx)
	if keepAlive, err = r.cfg.Lease.KeepAlive(kctx, resp.ID); err != nil {
		r.log.Warn("node lease keepalive failed", "err", err)
		cancel()
		return 0, nil, func() {}
	}
	r.nodes.markAllDirty()
	return resp.ID, keepAlive, cancel
}

// resumable reports whether etcd still holds history at rev (not compacted,
// not in the future).
func (r *Replicator) resumable(ctx context.Context, rev int64) bool {
	resp, err := r.cfg.KV.Get(ctx, r.cfg.Keys.State(), clientv3.WithPrefix(), clientv3.WithRev(rev), clientv3.WithCountOnly())
	if err != nil {
		if !errors.Is(err, rpctypes.ErrCompacted) && !errors.Is(err, rpctypes.ErrFutureRev) {
			r.log.Warn("checking resumability; sending a snapshot", "rev", rev, "err", err)
		}
		return false
	}
	return resp.Header.Revision >= rev
}
