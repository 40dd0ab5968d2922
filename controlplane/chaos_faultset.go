package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/controlplane/replication/fault"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/store"
)

// FaultSetConfig configures a FaultSet.
type FaultSetConfig struct {
	// KV and Watcher are the etcd client (a *clientv3.Client satisfies both). Required.
	KV      clientv3.KV
	Watcher clientv3.Watcher
	// Keys is the etcd key layout; the zero value means store.NewKeys("").
	Keys store.Keys
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock used to hide faults past their expiry before etcd's
	// lease removes them; nil means time.Now.
	Now func() time.Time
}

// FaultSet follows the faults stored under keys.Faults() with one etcd watch
// and keeps the current set in memory, so that components (the Replicator,
// the origin forwarder, the all-in-one lab's process faults) can ask which
// faults are active without a round trip. Run must be running for the set to
// follow etcd. Safe for concurrent use.
//
// A fault with a duration lives on an etcd lease; when the lease expires etcd
// deletes the key and the watch removes the fault (etcd checks leases about
// twice a second, so expiry is accurate to roughly a second). Reads also hide
// faults whose Expires has passed.
type FaultSet struct {
	cfg FaultSetConfig
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	faults  map[string]*edgelabv1.Fault // id -> fault, never mutated after stored
	channel map[string]fault.Fault      // id -> parsed replication-channel fault, for those that are one
	rev     int64                       // etcd revision the set reflects
	ready   bool
	readyCh chan struct{}
	notify  chan struct{} // closed and replaced on every change
}

// NewFaultSet checks cfg and applies defaults.
func NewFaultSet(cfg FaultSetConfig) (*FaultSet, error) {
	if cfg.KV == nil || cfg.Watcher == nil {
		return nil, errors.New("fault set: KV and Watcher are required")
	}
	if cfg.Keys == (store.Keys{}) {
		cfg.Keys = store.NewKeys("")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &FaultSet{
		cfg: cfg, log: cfg.Logger.With("component", "faultset"), now: cfg.Now,
		faults: map[string]*edgelabv1.Fault{}, channel: map[string]fault.Fault{}, readyCh: make(chan struct{}), notify: make(chan struct{}),
	}, nil
}

// Run loads the faults and follows etcd until ctx ends; it reloads after a
// compaction or a failed watch. It returns nil when ctx ends.
func (s *FaultSet) Run(ctx context.Context) error {
	backoff := 50 * time.Millisecond
	loaded := false
	for ctx.Err() == nil {
		if !loaded {
			if err := s.load(ctx); err != nil {
				s.log.Warn("loading faults failed; retrying", "err", err, "in", backoff)
				if !sleepCtx(ctx, backoff) {
					break
				}
				backoff = min(2*backoff, 2*time.Second)
				continue
			}
			loaded = true
		}
		backoff = 50 * time.Millisecond
		err := s.follow(ctx)
		if ctx.Err() != nil {
			break
		}
		if errors.Is(err, rpctypes.ErrCompacted) {
			loaded = false
		}
		s.log.Warn("fault watch ended; restarting", "err", err)
		if !sleepCtx(ctx, backoff) {
			break
		}
	}
	return nil
}

func (s *FaultSet) load(ctx context.Context) error {
	resp, err := s.cfg.KV.Get(ctx, s.cfg.Keys.Faults(), clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("loading faults: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.channel = map[string]*edgelabv1.Fault{}, map[string]fault.Fault{}
	for _, kv := range resp.Kvs {
		s.putLocked(kv.Key, kv.Value)
	}
	s.rev = resp.Header.Revision
	if !s.ready {
		s.ready = true
		close(s.readyCh)
	}
	s.wakeLocked()
	return nil
}

func (s *FaultSet) follow(ctx context.Context) error {
	s.mu.Lock()
	from := s.rev + 1
	s.mu.Unlock()
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	ch := s.cfg.Watcher.Watch(wctx, s.cfg.Keys.Faults(), clientv3.WithPrefix(), clientv3.WithRev(from), clientv3.WithProgressNotify())
	for resp := range ch {
		if resp.CompactRevision != 0 {
			return fmt.Errorf("fault watch from %d: %w", from, rpctypes.ErrCompacted)
		}
		if err := resp.Err(); err != nil {
			return fmt.Errorf("watching faults: %w", err)
		}
		s.mu.Lock()
		for _, ev := range resp.Events {
			if ev.Type == clientv3.EventTypeDelete {
				id := strings.TrimPrefix(string(ev.Kv.Key), s.cfg.Keys.Faults())
				delete(s.faults, id)
				delete(s.channel, id)
				continue
			}
			s.putLocked(ev.Kv.Key, ev.Kv.Value)
		}
		if resp.Header.Revision > s.rev {
			s.rev = resp.Header.Revision
		}
		s.wakeLocked()
		s.mu.Unlock()
	}
	return errors.New("fault watch channel closed")
}

// putLocked stores one fault record (an undecodable one removes the id).
func (s *FaultSet) putLocked(key, value []byte) {
	id := strings.TrimPrefix(string(key), s.cfg.Keys.Faults())
	delete(s.faults, id)
	delete(s.channel, id)
	f := &edgelabv1.Fault{}
	if err := proto.Unmarshal(value, f); err != nil {
		s.log.Error("skipping undecodable fault", "key", string(key), "err", err)
		return
	}
	s.faults[id] = f
	if cf, ok := fault.Parse(f); ok {
		s.channel[id] = cf
	}
}

func (s *FaultSet) wakeLocked() {
	close(s.notify)
	s.notify = make(chan struct{})
}

// WaitReady blocks until the first load is done or ctx ends.
func (s *FaultSet) WaitReady(ctx context.Context) error {
	select {
	case <-s.readyCh:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WaitRevision blocks until the set reflects etcd revision rev (so a caller
// that just wrote a fault reads its own write), or ctx ends.
func (s *FaultSet) WaitRevision(ctx context.Context, rev int64) error {
	for {
		s.mu.Lock()
		done, ch := s.ready && s.rev >= rev, s.notify
		s.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for faults at revision %d: %w", rev, ctx.Err())
		}
	}
}

// Changed returns a channel closed at the next change of the set.
func (s *FaultSet) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notify
}

// All returns the active faults sorted by id. The returned faults must not
// be modified.
func (s *FaultSet) All() []*edgelabv1.Fault { return s.Active("", "") }

// Active returns the active faults of kind on target ("" matches any),
// sorted by id. The returned faults must not be modified.
func (s *FaultSet) Active(kind, target string) []*edgelabv1.Fault {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*edgelabv1.Fault
	for _, f := range s.faults {
		if (kind == "" || f.GetKind() == kind) && (target == "" || f.GetTarget() == target) && !expired(f, now) {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetId() < out[j].GetId() })
	return out
}

func expired(f *edgelabv1.Fault, now time.Time) bool {
	return f.GetExpires() != nil && f.GetExpires().IsValid() && !f.GetExpires().AsTime().After(now)
}

// ReplicationFaults is what a Replicator asks about injected faults. The
// FaultSet implements it; nil in ReplicatorConfig means no faults.
// Implementations are safe for concurrent use.
type ReplicationFaults interface {
	// ForNode returns the replication faults now active for the node (by
	// node:<id> or region:<region>) and a channel closed at the next change
	// of the fault set.
	ForNode(node, region string) (NodeFaults, <-chan struct{})
}

// NodeFaults summarises the replication-channel faults active for one node
// (package fault folds them).
type NodeFaults = fault.Channel

var _ ReplicationFaults = (*FaultSet)(nil)

// ForNode implements ReplicationFaults: every replication-channel fault on
// node:<node> or region:<region>, folded.
func (s *FaultSet) ForNode(node, region string) (NodeFaults, <-chan struct{}) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var nf NodeFaults
	for id, f := range s.faults {
		if expired(f, now) || (f.GetTarget() != TargetNode+":"+node && f.GetTarget() != TargetRegion+":"+region) {
			continue
		}
		if cf := s.channel[id]; cf != nil {
			cf.Act(&nf)
		}
	}
	return nf, s.notify
}
