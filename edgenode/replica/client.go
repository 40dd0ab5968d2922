package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/desired"
	"github.com/edgelab/edgelab/edgenode/statelog"
	"github.com/edgelab/edgelab/internal/recvloop"
	"github.com/edgelab/edgelab/internal/rng"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// Applier installs desired state on the node. Apply receives the complete
// desired state each time (distributions + the function versions they use)
// and the invalidations that are new since the last successful Apply. It
// must either install all of it or return an error and keep serving the
// previous state. Apply is called from one goroutine at a time. An Applier
// that also implements ChangeApplier is given each revision by change
// instead.
type Applier interface {
	Apply(ctx context.Context, snap *edgelabv1.Snapshot, invalidations []*edgelabv1.Invalidation) error
}

// ApplierFunc adapts a function to Applier.
type ApplierFunc func(ctx context.Context, snap *edgelabv1.Snapshot, invalidations []*edgelabv1.Invalidation) error

// Apply calls f.
func (f ApplierFunc) Apply(ctx context.Context, snap *edgelabv1.Snapshot, invs []*edgelabv1.Invalidation) error {
	return f(ctx, snap, invs)
}

// ChangeApplier is implemented by an Applier that applies a revision by
// change (the edge node). The Client then calls ApplyChanges instead of
// Apply, with the complete desired state st and changed, what differs from
// the state of the last successful call (everything on the first call):
// the work of a revision is what it changed, not what the node holds. st
// is the Client's and valid only during the call (the protos it holds are
// never modified and may be kept). The contract is Apply's: all or an
// error, one goroutine at a time.
type ChangeApplier interface {
	ApplyChanges(ctx context.Context, st *desired.State, changed desired.Changed, invalidations []*edgelabv1.Invalidation) error
}

// FaultApplier is implemented by an Applier that acts on chaos faults
// itself (the edge node: health-fail, fetch-latency, fetch-errors). The
// Client calls ApplyFaults with the complete current list every time the
// control plane sends a FaultUpdate (once per stream after Hello, then on
// every change); an empty list heals everything. Fault updates have no
// revision and are never acked; the last list stays in force while no
// stream is open (a fault with an expiry ends by itself). ApplyFaults is
// called from the Run goroutine and must not block.
type FaultApplier interface {
	ApplyFaults(faults []*edgelabv1.Fault)
}

// Config configures a Client. Zero values take the defaults named per field.
type Config struct {
	// NodeID, Region, PoP identify the node; NodeID is required.
	NodeID, Region, PoP string
	// HTTPURL is where viewers reach the node (reported to the control plane).
	HTTPURL string
	// Role is the node's tier, "pop" or "rec" (Hello.role). Default "pop".
	Role string
	// Build is a free-form version string reported in Hello.
	Build string
	// Endpoints are control-plane replicas (host:port); tried in order, round robin. Required.
	Endpoints []string
	// StateDir holds the persisted last applied state (edgenode/statelog);
	// "" disables persistence.
	StateDir string
	// Applier installs state. Required.
	Applier Applier
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// BackoffInitial and BackoffMax bound reconnect delays (exponential with
	// full jitter); defaults 100ms and 5s.
	BackoffInitial, BackoffMax time.Duration
	// HeartbeatInterval is how often the node reports; default 2s.
	HeartbeatInterval time.Duration
	// DeadAfter drops a stream on which nothing arrived for this long; default 15s
	// (three control-plane pings).
	DeadAfter time.Duration
	// DialOptions are the gRPC dial's options; they must carry the
	// transport credentials: the node's certificate and the lab CA
	// (access.Client.DialOptions), or plaintext for an --insecure lab.
	// Required.
	DialOptions []grpc.DialOption
	// MaxMessageBytes is the largest message the node receives, announced in
	// Hello so the control plane sends larger updates in pieces; default
	// 4 MiB (gRPC's default), at least 64 KiB.
	MaxMessageBytes int
	// MaxUpdateBytes bounds one update reassembled from pieces; default 256 MiB.
	MaxUpdateBytes int64
}

// Message limits: gRPC's default receive size, and the smallest limit the
// control plane accepts in Hello.
const (
	defaultMaxMessageBytes = 4 << 20
	minMaxMessageBytes     = 64 << 10
)

// maxPendingLogs bounds log lines waiting for a stream.
const maxPendingLogs = 5000

// Client replicates desired state from the control plane. Safe for
// concurrent use; Run must be called once.
type Client struct {
	cfg Config
	log *slog.Logger

	// Owned by the Run goroutine.
	desired    *desired.State // the desired state (its last revision may be NACKed)
	desiredRev int64          // desired's revision
	// unapplied names what changed since the last revision the Applier took.
	unapplied    desired.Changed
	pendingInvs  []*edgelabv1.Invalidation
	awaitingSnap bool
	store        *statelog.Log  // nil without StateDir
	replace      bool           // the next save writes the whole state (after a snapshot)
	boot         *desired.State // loaded from disk, applied at Run start

	mu        sync.Mutex
	applied   int64
	history   []int64
	logs      []*edgelabv1.LogLine
	logKick   chan struct{}
	snapshots int
	// duplicates counts deltas ignored because their revision was applied.
	duplicates int
	// faults is the last FaultUpdate's list.
	faults []*edgelabv1.Fault
}

// New validates cfg and loads the persisted state, if any (a corrupt file is
// logged and ignored).
func New(cfg Config) (*Client, error) {
	if cfg.NodeID == "" {
		return nil, errors.New("replica: NodeID is required")
	}
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("replica: at least one endpoint is required")
	}
	if len(cfg.DialOptions) == 0 {
		return nil, errors.New("replica: DialOptions with transport credentials are required (access.Client.DialOptions)")
	}
	if cfg.Applier == nil {
		return nil, errors.New("replica: Applier is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BackoffInitial <= 0 {
		cfg.BackoffInitial = 100 * time.Millisecond
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = 5 * time.Second
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 2 * time.Second
	}
	if cfg.DeadAfter <= 0 {
		cfg.DeadAfter = 15 * time.Second
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = defaultMaxMessageBytes
	}
	if cfg.MaxMessageBytes < minMaxMessageBytes {
		return nil, fmt.Errorf("replica: MaxMessageBytes %d below the minimum %d", cfg.MaxMessageBytes, minMaxMessageBytes)
	}
	if cfg.MaxUpdateBytes <= 0 {
		cfg.MaxUpdateBytes = 256 << 20
	}
	c := &Client{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "replica", "node", cfg.NodeID),
		desired: desired.New(),
		logKick: make(chan struct{}, 1),
	}
	if cfg.StateDir != "" {
		store, err := statelog.Open(cfg.StateDir)
		if err != nil {
			return nil, fmt.Errorf("replica: %w", err)
		}
		c.store = store
		st, err := store.Load()
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			c.log.Error("ignoring unreadable persisted state; starting empty", "err", err)
		default:
			c.boot = st
		}
	}
	return c, nil
}

// LoadState reads the persisted state from dir without changing it (either
// format, see edgenode/statelog). The error wraps os.ErrNotExist when dir
// holds none.
func LoadState(dir string) (*edgelabv1.Snapshot, error) {
	st, err := statelog.Read(dir)
	if err != nil {
		return nil, err
	}
	return st.Snapshot(), nil
}

// Revision is the last revision applied successfully (0 = none).
func (c *Client) Revision() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.applied
}

// History lists every applied revision in order (for invariant checks).
func (c *Client) History() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int64(nil), c.history...)
}

// Snapshots counts snapshots received from the control plane.
func (c *Client) Snapshots() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshots
}

// Duplicates counts deltas received again after their revision was applied
// (ignored: a revision is never applied twice).
func (c *Client) Duplicates() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.duplicates
}

// Faults returns the node-side chaos faults of the last FaultUpdate
// (nil before the first one). The returned faults must not be modified.
func (c *Client) Faults() []*edgelabv1.Fault {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*edgelabv1.Fault(nil), c.faults...)
}

// SendLogs queues function log lines for the control plane's regional log
// store. Lines beyond a bound are dropped while no stream is open.
func (c *Client) SendLogs(lines []*edgelabv1.LogLine) {
	c.mu.Lock()
	room := maxPendingLogs - len(c.logs)
	if room < len(lines) {
		lines = lines[:max(room, 0)]
	}
	c.logs = append(c.logs, lines...)
	c.mu.Unlock()
	select {
	case c.logKick <- struct{}{}:
	default:
	}
}

func (c *Client) takeLogs() []*edgelabv1.LogLine {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.logs
	c.logs = nil
	return l
}

func (c *Client) requeueLogs(l []*edgelabv1.LogLine) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logs = append(l, c.logs...)
	if len(c.logs) > maxPendingLogs {
		c.logs = c.logs[len(c.logs)-maxPendingLogs:]
	}
}

// loadDesired makes s the desired state; the next save replaces the
// state on disk as a whole.
func (c *Client) loadDesired(s *edgelabv1.Snapshot) error {
	st, err := desired.FromSnapshot(s)
	if err != nil {
		return err
	}
	c.unapplied.Merge(desired.Diff(c.desired, st))
	c.desired, c.desiredRev, c.replace = st, st.Revision(), true
	return nil
}

// applyDelta folds a delta that follows desiredRev into the desired state.
func (c *Client) applyDelta(d *edgelabv1.Delta) error {
	changed, invs, err := c.desired.ApplyDelta(d)
	if err != nil {
		return err
	}
	c.unapplied.Merge(changed)
	c.pendingInvs = append(c.pendingInvs, invs...)
	c.desiredRev = d.Revision
	return nil
}

// apply installs the desired state, persists it and returns the ack to
// send: OK only once the revision is on disk (with a StateDir).
func (c *Client) apply(ctx context.Context, received time.Time) *edgelabv1.Ack {
	rev := c.desiredRev
	err := c.install(ctx)
	ack := &edgelabv1.Ack{Revision: rev, Received: timestamppb.New(received), Applied: timestamppb.Now()}
	if err != nil {
		c.log.Warn("rejecting revision; keeping previous state", "revision", rev, "err", err)
		ack.Error = err.Error()
		return ack
	}
	c.pendingInvs = nil
	changed := c.unapplied
	c.unapplied = desired.Changed{}
	if err := c.persist(changed); err != nil {
		// Serving it, not acked: the next save rewrites the whole state.
		c.log.Error("persisting applied state", "revision", rev, "err", err)
		ack.Error = fmt.Sprintf("revision %d applied but not persisted: %v", rev, err)
		return ack
	}
	c.mu.Lock()
	if rev > c.applied {
		c.applied = rev
		c.history = append(c.history, rev)
	}
	c.mu.Unlock()
	ack.Ok = true
	return ack
}

// install hands the desired state to the Applier: by change when it can
// take that, else as a whole Snapshot.
func (c *Client) install(ctx context.Context) error {
	if ca, ok := c.cfg.Applier.(ChangeApplier); ok {
		return ca.ApplyChanges(ctx, c.desired, c.unapplied, c.pendingInvs)
	}
	snap := c.desired.Snapshot()
	snap.Created = timestamppb.Now()
	return c.cfg.Applier.Apply(ctx, snap, c.pendingInvs)
}

// persist saves the desired state; changed is what differs from the
// revision on disk. Nothing is written when the disk already holds it.
func (c *Client) persist(changed desired.Changed) error {
	if c.store == nil || (c.store.Revision() == c.desiredRev && !c.replace) {
		return nil
	}
	if c.replace {
		if err := c.store.Replace(c.desired); err != nil {
			return err
		}
		c.replace = false
		return nil
	}
	return c.store.Save(c.desired, changed)
}

// Run applies the persisted state, then replicates until ctx ends. It returns nil on ctx end.
func (c *Client) Run(ctx context.Context) error {
	if c.store != nil {
		defer c.store.Close()
	}
	if c.boot != nil {
		boot := c.boot
		c.boot = nil
		c.desired, c.desiredRev, c.unapplied = boot, boot.Revision(), desired.All(boot)
		if ack := c.apply(ctx, time.Now()); ack.Ok {
			c.log.Info("serving persisted state", "revision", boot.Revision())
		} else {
			// Start empty: the control plane sends a snapshot, which
			// replaces the state on disk.
			c.desired, c.desiredRev, c.unapplied, c.replace = desired.New(), 0, desired.Changed{}, true
		}
	}
	rnd := rng.New()
	backoff := c.cfg.BackoffInitial
	for i := 0; ctx.Err() == nil; i++ {
		ep := c.cfg.Endpoints[i%len(c.cfg.Endpoints)]
		progressed, err := c.session(ctx, ep)
		if ctx.Err() != nil {
			break
		}
		if progressed {
			backoff = c.cfg.BackoffInitial
		}
		wait := time.Duration(rnd.Int64N(int64(backoff)) + 1)
		c.log.Info("replication stream ended; reconnecting", "endpoint", ep, "err", err, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		backoff = min(2*backoff, c.cfg.BackoffMax)
	}
	return nil
}

// session runs one stream; progressed reports whether anything was received.
func (c *Client) session(ctx context.Context, endpoint string) (progressed bool, err error) {
	opts := append([]grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(c.cfg.MaxMessageBytes))}, c.cfg.DialOptions...)
	conn, err := grpc.NewClient(endpoint, opts...)
	if err != nil {
		return false, fmt.Errorf("dialing %s: %w", endpoint, err)
	}
	defer conn.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.open(sctx, conn, endpoint)
	if err != nil {
		return false, err
	}
	// One receiver goroutine; this goroutine is the only sender.
	var wg sync.WaitGroup
	in, recvErr := recvloop.Start(sctx, &wg, 16, stream.Recv)
	defer wg.Wait()
	defer cancel()
	send := func(m *edgelabv1.StreamRequest) error {
		if err := stream.Send(m); err != nil {
			return fmt.Errorf("sending to %s: %w", endpoint, err)
		}
		return nil
	}
	hb := time.NewTicker(c.cfg.HeartbeatInterval)
	defer hb.Stop()
	lastRecv := time.Now()
	asm := &assembler{max: c.cfg.MaxUpdateBytes}
	for {
		select {
		case <-ctx.Done():
			return progressed, nil
		case err := <-recvErr:
			return progressed, fmt.Errorf("receiving from %s: %w", endpoint, err)
		case <-hb.C:
			if time.Since(lastRecv) > c.cfg.DeadAfter {
				return progressed, fmt.Errorf("stream to %s silent for %v", endpoint, time.Since(lastRecv).Round(time.Millisecond))
			}
			if err := send(&edgelabv1.StreamRequest{Msg: &edgelabv1.StreamRequest_Heartbeat{Heartbeat: &edgelabv1.Heartbeat{AppliedRevision: c.Revision(), Health: "ok"}}}); err != nil {
				return progressed, err
			}
		case <-c.logKick:
			if lines := c.takeLogs(); len(lines) > 0 {
				if err := send(&edgelabv1.StreamRequest{Msg: &edgelabv1.StreamRequest_Logs{Logs: &edgelabv1.LogBatch{Lines: lines}}}); err != nil {
					c.requeueLogs(lines)
					return progressed, err
				}
			}
		case m := <-in:
			progressed = true
			lastRecv = time.Now()
			m, err := c.reassemble(asm, m)
			if err != nil {
				return progressed, fmt.Errorf("receiving from %s: %w", endpoint, err)
			}
			if m == nil {
				continue // more pieces to come
			}
			ack := c.handle(ctx, m)
			if ack != nil {
				if err := send(&edgelabv1.StreamRequest{Msg: &edgelabv1.StreamRequest_Ack{Ack: ack}}); err != nil {
					return progressed, err
				}
			}
		}
	}
}

// open opens the stream and says Hello.
func (c *Client) open(ctx context.Context, conn *grpc.ClientConn, endpoint string) (edgelabv1.ReplicationService_StreamClient, error) {
	stream, err := edgelabv1.NewReplicationServiceClient(conn).Stream(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening stream to %s: %w", endpoint, err)
	}
	c.awaitingSnap = false
	hello := &edgelabv1.Hello{NodeId: c.cfg.NodeID, Region: c.cfg.Region, Pop: c.cfg.PoP,
		LastRevision: c.desiredRev, HttpUrl: c.cfg.HTTPURL, Build: c.cfg.Build, MaxMessageBytes: int64(c.cfg.MaxMessageBytes), Role: c.cfg.Role}
	if err := stream.Send(&edgelabv1.StreamRequest{Msg: &edgelabv1.StreamRequest_Hello{Hello: hello}}); err != nil {
		return nil, fmt.Errorf("sending hello to %s: %w", endpoint, err)
	}
	return stream, nil
}

// reassemble passes whole messages through and collects Chunks until an
// update is complete (nil, nil before). Anything but the next piece while an
// update is in pieces breaks the sequence: the stream is dropped.
func (c *Client) reassemble(asm *assembler, m *edgelabv1.StreamResponse) (*edgelabv1.StreamResponse, error) {
	ch := m.GetChunk()
	if ch == nil {
		if asm.pending() {
			asm.reset()
			return nil, fmt.Errorf("a whole message inside a chunked revision: %w", errChunkSequence)
		}
		return m, nil
	}
	return asm.add(ch)
}

// handle processes one message and returns the ack to send, if any.
func (c *Client) handle(ctx context.Context, m *edgelabv1.StreamResponse) *edgelabv1.Ack {
	received := time.Now()
	switch msg := m.Msg.(type) {
	case *edgelabv1.StreamResponse_Snapshot:
		s := msg.Snapshot
		c.mu.Lock()
		c.snapshots++
		c.mu.Unlock()
		c.awaitingSnap = false
		switch {
		case s.Revision < c.desiredRev:
			// Never go back; the control plane catches up and sends deltas.
			c.log.Warn("ignoring snapshot older than our state", "snapshot", s.Revision, "ours", c.desiredRev)
			return nil
		case s.Revision == c.desiredRev && c.Revision() == c.desiredRev:
			// Already applied: ack without applying twice.
			return &edgelabv1.Ack{Revision: s.Revision, Ok: true, Received: timestamppb.New(received), Applied: timestamppb.New(received)}
		}
		var invs []*edgelabv1.Invalidation
		if c.desiredRev > 0 {
			for _, inv := range s.Invalidations {
				if inv.Revision > c.desiredRev {
					invs = append(invs, inv)
				}
			}
		}
		if err := c.loadDesired(s); err != nil {
			c.log.Warn("rejecting snapshot", "revision", s.Revision, "err", err)
			return &edgelabv1.Ack{Revision: s.Revision, Error: err.Error(), Received: timestamppb.New(received), Applied: timestamppb.Now()}
		}
		c.pendingInvs = append(c.pendingInvs, invs...)
		return c.apply(ctx, received)
	case *edgelabv1.StreamResponse_Delta:
		d := msg.Delta
		if c.awaitingSnap {
			return nil
		}
		if d.Revision <= c.desiredRev && c.Revision() == c.desiredRev {
			// A duplicate (or older) delta: never apply a revision twice,
			// never go back. Nothing to ack: the first copy was acked.
			c.mu.Lock()
			c.duplicates++
			c.mu.Unlock()
			c.log.Debug("ignoring a delta we already applied", "rev", d.Revision, "ours", c.desiredRev)
			return nil
		}
		if d.PrevRevision != c.desiredRev || d.Revision <= c.desiredRev {
			c.log.Info("delta does not follow our revision; asking for a snapshot", "prev", d.PrevRevision, "rev", d.Revision, "ours", c.desiredRev)
			c.awaitingSnap = true
			return &edgelabv1.Ack{Revision: c.desiredRev, Resync: true}
		}
		if err := c.applyDelta(d); err != nil {
			c.awaitingSnap = true
			return &edgelabv1.Ack{Revision: c.desiredRev, Resync: true}
		}
		return c.apply(ctx, received)
	case *edgelabv1.StreamResponse_Faults:
		faults := msg.Faults.GetFaults()
		c.mu.Lock()
		c.faults = faults
		c.mu.Unlock()
		if fa, ok := c.cfg.Applier.(FaultApplier); ok {
			fa.ApplyFaults(faults)
		}
		c.log.Debug("chaos faults updated", "faults", len(faults))
		return nil // never acked
	}
	return nil // Ping: liveness only
}
