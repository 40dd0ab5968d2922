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

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/desired"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/store"
)

// maxSnapshotInvalidations bounds the invalidations a snapshot carries.
const maxSnapshotInvalidations = 256

// hub keeps the desired state in memory (a desired.Builder: the one key
// scheme and builder the nodes share), follows it with one etcd watch and
// turns every state revision into a Delta kept in a bounded history. Every
// stream of a Replicator reads from the same hub, so a change is decoded once
// however many nodes are attached.
//
// Protos stored in the hub are never mutated after they are stored; streams
// share them read-only. All fields below mu are guarded by it.
type hub struct {
	kv       clientv3.KV
	watcher  clientv3.Watcher
	keys     store.Keys
	serverID string
	log      *slog.Logger
	now      func() time.Time
	limit    int

	mu      sync.Mutex
	ready   bool
	readyCh chan struct{}                      // closed once the first load is done
	rev     int64                              // revision of the state below
	revTime time.Time                          // when rev was observed
	state   *desired.Builder                   // distributions, stored versions, the desired state
	invs    map[string]*edgelabv1.Invalidation // etcd key -> invalidation
	history []*edgelabv1.Delta                 // ascending by Revision
	times   map[int64]time.Time                // revision -> observed, for history entries
	notify  chan struct{}                      // closed and replaced on every change
	snap    *edgelabv1.Snapshot                // cached snapshot of rev, nil when stale
}

func newHub(kv clientv3.KV, w clientv3.Watcher, keys store.Keys, serverID string, log *slog.Logger, now func() time.Time, limit int) *hub {
	return &hub{
		kv: kv, watcher: w, keys: keys, serverID: serverID, log: log, now: now, limit: limit,
		readyCh: make(chan struct{}),
		notify:  make(chan struct{}),
	}
}

// load replaces the in-memory state with a fresh read of etcd and clears the
// history (streams whose position it no longer covers get a snapshot).
func (h *hub) load(ctx context.Context) error {
	resp, err := h.kv.Get(ctx, h.keys.State(), clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("loading desired state: %w", err)
	}
	b := desired.NewBuilder()
	invs := map[string]*edgelabv1.Invalidation{}
	for _, kv := range resp.Kvs {
		h.decodeInto(kv, b, invs)
	}
	b.Commit(resp.Header.Revision) // the load is a snapshot, not a delta
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rev = resp.Header.Revision
	h.revTime = h.now()
	h.state, h.invs = b, invs
	h.history = nil
	h.times = map[int64]time.Time{}
	h.snap = nil
	if !h.ready {
		h.ready = true
		close(h.readyCh)
	}
	h.wakeLocked()
	return nil
}

// decodeInto decodes one state key into the maps; undecodable values are logged and skipped.
func (h *hub) decodeInto(kv *mvccpb.KeyValue, b *desired.Builder, invs map[string]*edgelabv1.Invalidation) {
	key := string(kv.Key)
	switch {
	case strings.HasPrefix(key, h.keys.Distributions()):
		d := &edgelabv1.Distribution{}
		if err := proto.Unmarshal(kv.Value, d); err != nil {
			h.log.Error("skipping undecodable distribution", "key", key, "err", err)
			return
		}
		b.PutDistribution(d)
	case strings.HasPrefix(key, h.keys.Versions()):
		name, ver, ok := h.keys.ParseVersionKey(key)
		fv := &edgelabv1.FunctionVersion{}
		if !ok {
			h.log.Error("skipping malformed version key", "key", key)
			return
		}
		if err := proto.Unmarshal(kv.Value, fv); err != nil {
			h.log.Error("skipping undecodable function version", "key", key, "err", err)
			return
		}
		fv.Name, fv.Version = name, ver // keyed as etcd names it
		b.PutVersion(fv)
	case strings.HasPrefix(key, h.keys.Invalidations()):
		inv := &edgelabv1.Invalidation{}
		if err := proto.Unmarshal(kv.Value, inv); err != nil {
			h.log.Error("skipping undecodable invalidation", "key", key, "err", err)
			return
		}
		if inv.Revision == 0 {
			inv.Revision = kv.ModRevision
		}
		invs[key] = inv
	}
}

func (h *hub) wakeLocked() {
	close(h.notify)
	h.notify = make(chan struct{})
}

// run follows etcd until ctx ends, reloading after compaction or watch failure.
func (h *hub) run(ctx context.Context) error {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		if !h.isReady() {
			if err := h.load(ctx); err != nil {
				h.log.Warn("replication hub load failed; retrying", "err", err, "in", backoff)
				if !sleepCtx(ctx, backoff) {
					break
				}
				backoff = min(2*backoff, 2*time.Second)
				continue
			}
		}
		backoff = 50 * time.Millisecond
		err := h.follow(ctx)
		if ctx.Err() != nil {
			break
		}
		if errors.Is(err, rpctypes.ErrCompacted) {
			h.log.Warn("replication hub fell behind etcd compaction; reloading", "err", err)
			h.mu.Lock()
			h.ready = false
			h.mu.Unlock()
			continue
		}
		h.log.Warn("replication watch ended; restarting", "err", err)
		if !sleepCtx(ctx, backoff) {
			break
		}
	}
	return nil
}

func (h *hub) isReady() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ready
}

// follow watches the state prefix from the revision after the current one.
func (h *hub) follow(ctx context.Context) error {
	h.mu.Lock()
	from := h.rev + 1
	h.mu.Unlock()
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	ch := h.watcher.Watch(wctx, h.keys.State(), clientv3.WithPrefix(), clientv3.WithRev(from))
	for resp := range ch {
		if resp.CompactRevision != 0 {
			return fmt.Errorf("watch from %d: %w", from, rpctypes.ErrCompacted)
		}
		if err := resp.Err(); err != nil {
			return fmt.Errorf("watching desired state: %w", err)
		}
		// One etcd transaction is one revision; a response never splits one.
		var group []*clientv3.Event
		for i, ev := range resp.Events {
			group = append(group, ev)
			if i == len(resp.Events)-1 || resp.Events[i+1].Kv.ModRevision != ev.Kv.ModRevision {
				h.apply(ev.Kv.ModRevision, group)
				group = nil
			}
		}
	}
	return errors.New("watch channel closed")
}

// apply folds one revision's events into the state and records its Delta.
func (h *hub) apply(rev int64, events []*clientv3.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rev <= h.rev {
		return // already covered by a reload
	}
	var invs []*edgelabv1.Change
	for _, ev := range events {
		key := string(ev.Kv.Key)
		switch {
		case strings.HasPrefix(key, h.keys.Distributions()):
			h.applyDistributionLocked(ev, strings.TrimPrefix(key, h.keys.Distributions()))
		case strings.HasPrefix(key, h.keys.Versions()):
			h.applyVersionLocked(ev)
		case strings.HasPrefix(key, h.keys.Invalidations()):
			if ch := h.applyInvalidationLocked(ev, rev); ch != nil {
				invs = append(invs, ch)
			}
		}
	}
	d := h.state.Commit(rev)
	h.recordLocked(rev, append(d.Changes, invs...))
}

func (h *hub) applyDistributionLocked(ev *clientv3.Event, id string) {
	if ev.Type == clientv3.EventTypeDelete {
		h.state.DeleteDistribution(id)
		return
	}
	d := &edgelabv1.Distribution{}
	if err := proto.Unmarshal(ev.Kv.Value, d); err != nil {
		h.log.Error("skipping undecodable distribution", "key", string(ev.Kv.Key), "err", err)
		h.state.DeleteDistribution(id)
		return
	}
	h.state.PutDistribution(d)
}

func (h *hub) applyVersionLocked(ev *clientv3.Event) {
	name, ver, ok := h.keys.ParseVersionKey(string(ev.Kv.Key))
	if !ok {
		return
	}
	if ev.Type == clientv3.EventTypeDelete {
		h.state.DeleteVersion(desired.Key{Name: name, Version: ver})
		return
	}
	fv := &edgelabv1.FunctionVersion{}
	if err := proto.Unmarshal(ev.Kv.Value, fv); err != nil {
		h.log.Error("skipping undecodable function version", "key", string(ev.Kv.Key), "err", err)
		h.state.DeleteVersion(desired.Key{Name: name, Version: ver})
		return
	}
	fv.Name, fv.Version = name, ver // keyed as etcd names it
	h.state.PutVersion(fv)
}

// applyInvalidationLocked records an invalidation and returns its change (nil for none).
func (h *hub) applyInvalidationLocked(ev *clientv3.Event, rev int64) *edgelabv1.Change {
	key := string(ev.Kv.Key)
	if ev.Type == clientv3.EventTypeDelete {
		delete(h.invs, key)
		return nil
	}
	inv := &edgelabv1.Invalidation{}
	if err := proto.Unmarshal(ev.Kv.Value, inv); err != nil {
		h.log.Error("skipping undecodable invalidation", "key", key, "err", err)
		return nil
	}
	if inv.Revision == 0 {
		inv.Revision = rev
	}
	h.invs[key] = inv
	return &edgelabv1.Change{Change: &edgelabv1.Change_Invalidation{Invalidation: inv}}
}

// recordLocked appends the revision's Delta to the bounded history and wakes the streams.
func (h *hub) recordLocked(rev int64, changes []*edgelabv1.Change) {
	now := h.now()
	d := &edgelabv1.Delta{Revision: rev, PrevRevision: h.rev, Changes: changes, Created: timestamppb.New(now), ServerId: h.serverID}
	h.history = append(h.history, d)
	h.times[rev] = now
	if over := len(h.history) - h.limit; over > 0 {
		for _, old := range h.history[:over] {
			delete(h.times, old.Revision)
		}
		h.history = append([]*edgelabv1.Delta(nil), h.history[over:]...)
	}
	h.rev, h.revTime, h.snap = rev, now, nil
	h.wakeLocked()
}

// waitReady blocks until the first load or ctx end.
func (h *hub) waitReady(ctx context.Context) error {
	select {
	case <-h.readyCh:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// current returns the state revision, when it was observed, and a channel
// closed at the next change.
func (h *hub) current() (int64, time.Time, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rev, h.revTime, h.notify
}

// changedAt is when the hub saw revision rev (zero if it no longer knows).
func (h *hub) changedAt(rev int64) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.times[rev]
}

// since returns the deltas that move a node from pos to the hub's revision.
// The first one's PrevRevision is rewritten to pos (the state did not change
// between pos and its real PrevRevision). gap is true when the history no
// longer covers pos: the node needs a snapshot. A pos ahead of the hub yields
// nothing until the hub catches up.
func (h *hub) since(pos int64) (deltas []*edgelabv1.Delta, gap bool, wake <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	wake = h.notify
	if pos >= h.rev {
		return nil, false, wake
	}
	i := sort.Search(len(h.history), func(i int) bool { return h.history[i].Revision > pos })
	if i == len(h.history) || h.history[i].PrevRevision > pos {
		return nil, true, wake
	}
	out := make([]*edgelabv1.Delta, len(h.history)-i)
	copy(out, h.history[i:])
	if out[0].PrevRevision != pos {
		d := out[0]
		out[0] = &edgelabv1.Delta{Revision: d.Revision, PrevRevision: pos, Changes: d.Changes, Created: d.Created, ServerId: d.ServerId}
	}
	return out, false, wake
}

// snapshot returns the complete desired state at the hub's revision.
func (h *hub) snapshot() *edgelabv1.Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.snap != nil {
		return h.snap
	}
	s := h.state.Snapshot()
	s.Created, s.ServerId = timestamppb.New(h.now()), h.serverID
	invs := make([]*edgelabv1.Invalidation, 0, len(h.invs))
	for _, inv := range h.invs {
		invs = append(invs, inv)
	}
	sort.Slice(invs, func(i, j int) bool { return invs[i].Revision < invs[j].Revision })
	if len(invs) > maxSnapshotInvalidations {
		invs = invs[len(invs)-maxSnapshotInvalidations:]
	}
	s.Invalidations = invs
	h.snap = s
	return s
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
