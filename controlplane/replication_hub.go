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

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/store"
)

// maxSnapshotInvalidations bounds the invalidations a snapshot carries.
const maxSnapshotInvalidations = 256

// hub keeps the desired state in memory, follows it with one etcd watch and
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

	mu       sync.Mutex
	ready    bool
	readyCh  chan struct{} // closed once the first load is done
	rev      int64         // revision of the state below
	revTime  time.Time     // when rev was observed
	dists    map[string]*edgelabv1.Distribution
	versions map[string]*edgelabv1.FunctionVersion // versionKey -> version
	refs     map[string]int                        // versionKey -> distributions referencing it
	invs     map[string]*edgelabv1.Invalidation    // etcd key -> invalidation
	history  []*edgelabv1.Delta                    // ascending by Revision
	times    map[int64]time.Time                   // revision -> observed, for history entries
	notify   chan struct{}                         // closed and replaced on every change
	snap     *edgelabv1.Snapshot                   // cached snapshot of rev, nil when stale
}

func newHub(kv clientv3.KV, w clientv3.Watcher, keys store.Keys, serverID string, log *slog.Logger, now func() time.Time, limit int) *hub {
	return &hub{
		kv: kv, watcher: w, keys: keys, serverID: serverID, log: log, now: now, limit: limit,
		readyCh: make(chan struct{}),
		notify:  make(chan struct{}),
	}
}

func versionKey(name string, version int64) string { return fmt.Sprintf("%s/%d", name, version) }

func distRefs(d *edgelabv1.Distribution) []string {
	seen := map[string]bool{}
	var out []string
	for _, b := range d.GetBehaviors() {
		for _, a := range b.GetFunctions() {
			k := versionKey(a.GetFunction(), a.GetVersion())
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// load replaces the in-memory state with a fresh read of etcd and clears the
// history (streams whose position it no longer covers get a snapshot).
func (h *hub) load(ctx context.Context) error {
	resp, err := h.kv.Get(ctx, h.keys.State(), clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("loading desired state: %w", err)
	}
	dists := map[string]*edgelabv1.Distribution{}
	versions := map[string]*edgelabv1.FunctionVersion{}
	invs := map[string]*edgelabv1.Invalidation{}
	for _, kv := range resp.Kvs {
		h.decodeInto(kv, dists, versions, invs)
	}
	refs := map[string]int{}
	for _, d := range dists {
		for _, k := range distRefs(d) {
			refs[k]++
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rev = resp.Header.Revision
	h.revTime = h.now()
	h.dists, h.versions, h.refs, h.invs = dists, versions, refs, invs
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
func (h *hub) decodeInto(kv *mvccpb.KeyValue, dists map[string]*edgelabv1.Distribution, versions map[string]*edgelabv1.FunctionVersion, invs map[string]*edgelabv1.Invalidation) {
	key := string(kv.Key)
	switch {
	case strings.HasPrefix(key, h.keys.Distributions()):
		d := &edgelabv1.Distribution{}
		if err := proto.Unmarshal(kv.Value, d); err != nil {
			h.log.Error("skipping undecodable distribution", "key", key, "err", err)
			return
		}
		dists[strings.TrimPrefix(key, h.keys.Distributions())] = d
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
		versions[versionKey(name, ver)] = fv
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

// desiredLocked reports whether a version is part of the desired state.
func (h *hub) desiredLocked(k string) bool {
	_, ok := h.versions[k]
	return ok && h.refs[k] > 0
}

// revisionChanges collects what one revision's events change.
type revisionChanges struct {
	// before is whether each touched version was desired before the revision.
	before map[string]bool
	// rewritten marks versions whose record was written in the revision.
	rewritten   map[string]bool
	dists, invs []*edgelabv1.Change
}

// apply folds one revision's events into the state and records its Delta.
func (h *hub) apply(rev int64, events []*clientv3.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rev <= h.rev {
		return // already covered by a reload
	}
	rc := &revisionChanges{before: map[string]bool{}, rewritten: map[string]bool{}}
	for _, ev := range events {
		key := string(ev.Kv.Key)
		switch {
		case strings.HasPrefix(key, h.keys.Distributions()):
			h.applyDistributionLocked(rc, ev, strings.TrimPrefix(key, h.keys.Distributions()))
		case strings.HasPrefix(key, h.keys.Versions()):
			h.applyVersionLocked(rc, ev)
		case strings.HasPrefix(key, h.keys.Invalidations()):
			h.applyInvalidationLocked(rc, ev, rev)
		}
	}
	changes := append(append(h.functionChangesLocked(rc), rc.dists...), rc.invs...)
	h.recordLocked(rev, changes)
}

// touchLocked remembers whether version k was desired before the revision.
func (h *hub) touchLocked(rc *revisionChanges, k string) {
	if _, ok := rc.before[k]; !ok {
		rc.before[k] = h.desiredLocked(k)
	}
}

func (h *hub) applyDistributionLocked(rc *revisionChanges, ev *clientv3.Event, id string) {
	if old, ok := h.dists[id]; ok {
		for _, k := range distRefs(old) {
			h.touchLocked(rc, k)
			h.refs[k]--
			if h.refs[k] <= 0 {
				delete(h.refs, k)
			}
		}
		delete(h.dists, id)
	}
	deleted := &edgelabv1.Change{Change: &edgelabv1.Change_DeleteDistribution{DeleteDistribution: id}}
	if ev.Type == clientv3.EventTypeDelete {
		rc.dists = append(rc.dists, deleted)
		return
	}
	d := &edgelabv1.Distribution{}
	if err := proto.Unmarshal(ev.Kv.Value, d); err != nil {
		h.log.Error("skipping undecodable distribution", "key", string(ev.Kv.Key), "err", err)
		rc.dists = append(rc.dists, deleted)
		return
	}
	for _, k := range distRefs(d) {
		h.touchLocked(rc, k)
		h.refs[k]++
	}
	h.dists[id] = d
	rc.dists = append(rc.dists, &edgelabv1.Change{Change: &edgelabv1.Change_PutDistribution{PutDistribution: d}})
}

func (h *hub) applyVersionLocked(rc *revisionChanges, ev *clientv3.Event) {
	name, ver, ok := h.keys.ParseVersionKey(string(ev.Kv.Key))
	if !ok {
		return
	}
	k := versionKey(name, ver)
	h.touchLocked(rc, k)
	if ev.Type == clientv3.EventTypeDelete {
		delete(h.versions, k)
		return
	}
	fv := &edgelabv1.FunctionVersion{}
	if err := proto.Unmarshal(ev.Kv.Value, fv); err != nil {
		h.log.Error("skipping undecodable function version", "key", string(ev.Kv.Key), "err", err)
		delete(h.versions, k)
		return
	}
	h.versions[k] = fv
	rc.rewritten[k] = true
}

func (h *hub) applyInvalidationLocked(rc *revisionChanges, ev *clientv3.Event, rev int64) {
	key := string(ev.Kv.Key)
	if ev.Type == clientv3.EventTypeDelete {
		delete(h.invs, key)
		return
	}
	inv := &edgelabv1.Invalidation{}
	if err := proto.Unmarshal(ev.Kv.Value, inv); err != nil {
		h.log.Error("skipping undecodable invalidation", "key", key, "err", err)
		return
	}
	if inv.Revision == 0 {
		inv.Revision = rev
	}
	h.invs[key] = inv
	rc.invs = append(rc.invs, &edgelabv1.Change{Change: &edgelabv1.Change_Invalidation{Invalidation: inv}})
}

// functionChangesLocked turns the touched versions into puts (newly desired
// or rewritten while desired) and deletes (no longer desired), sorted by key.
func (h *hub) functionChangesLocked(rc *revisionChanges) []*edgelabv1.Change {
	keys := make([]string, 0, len(rc.before))
	for k := range rc.before {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []*edgelabv1.Change
	for _, k := range keys {
		was, is := rc.before[k], h.desiredLocked(k)
		switch {
		case is && (!was || rc.rewritten[k]):
			out = append(out, &edgelabv1.Change{Change: &edgelabv1.Change_PutFunction{PutFunction: h.versions[k]}})
		case was && !is:
			name, ver := splitVersionKey(k)
			out = append(out, &edgelabv1.Change{Change: &edgelabv1.Change_DeleteFunction{DeleteFunction: &edgelabv1.FunctionRef{Name: name, Version: ver}}})
		}
	}
	return out
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

func splitVersionKey(k string) (string, int64) {
	i := strings.LastIndexByte(k, '/')
	var v int64
	_, _ = fmt.Sscan(k[i+1:], &v)
	return k[:i], v
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
	s := &edgelabv1.Snapshot{Revision: h.rev, Created: timestamppb.New(h.now()), ServerId: h.serverID}
	ids := make([]string, 0, len(h.dists))
	for id := range h.dists {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s.Distributions = append(s.Distributions, h.dists[id])
	}
	fks := make([]string, 0, len(h.refs))
	for k := range h.refs {
		if h.desiredLocked(k) {
			fks = append(fks, k)
		}
	}
	sort.Strings(fks)
	for _, k := range fks {
		s.Functions = append(s.Functions, h.versions[k])
	}
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
