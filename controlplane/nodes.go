package controlplane

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/store"
)

// maxAckHistory bounds the ack records kept per node.
const maxAckHistory = 32

// maxOpsPerTxn stays under etcd's default --max-txn-ops (128).
const maxOpsPerTxn = 100

// nodeEntry is this replica's view of one attached (or recently detached) node.
type nodeEntry struct {
	rec        *edgelabv1.NodeRecord
	session    uint64
	dirty      bool
	modRev     int64     // mod revision of our last write, 0 if none
	detachedAt time.Time // zero while attached
	// end closes the current session's stream when a newer one takes over.
	end context.CancelCauseFunc
}

// nodeRegistry holds node records in memory and writes them to etcd in
// coalesced batches (one flush every FlushInterval), so acks never block on
// etcd. Records are attached to the replica's lease; records of nodes that
// detached are deleted after the node TTL unless another replica wrote them
// since (compare on mod revision). Safe for concurrent use.
type nodeRegistry struct {
	kv       clientv3.KV
	keys     store.Keys
	serverID string
	log      *slog.Logger
	now      func() time.Time
	ttl      time.Duration

	mu      sync.Mutex
	nodes   map[string]*nodeEntry
	nextSes uint64
	kick    chan struct{}
}

func newNodeRegistry(kv clientv3.KV, keys store.Keys, serverID string, log *slog.Logger, now func() time.Time, ttl time.Duration) *nodeRegistry {
	return &nodeRegistry{kv: kv, keys: keys, serverID: serverID, log: log, now: now, ttl: ttl,
		nodes: map[string]*nodeEntry{}, kick: make(chan struct{}, 1)}
}

// attach registers a new stream for a node and returns its session number.
// The stored history (possibly written by another replica) is carried over.
// As in go-control-plane, the newer stream of a node wins: a stream still
// attached for the same id is ended (end of the older session) with
// codes.Aborted, and the node's record counts the takeover.
func (g *nodeRegistry) attach(ctx context.Context, h *edgelabv1.Hello, end context.CancelCauseFunc) uint64 {
	var prev *edgelabv1.NodeRecord
	if resp, err := g.kv.Get(ctx, g.keys.Node(h.NodeId)); err == nil && len(resp.Kvs) == 1 {
		rec := &edgelabv1.NodeRecord{}
		if proto.Unmarshal(resp.Kvs[0].Value, rec) == nil {
			prev = rec
		}
	}
	now := timestamppb.New(g.now())
	g.mu.Lock()
	defer g.mu.Unlock()
	g.nextSes++
	e, ok := g.nodes[h.NodeId]
	if !ok {
		e = &nodeEntry{rec: &edgelabv1.NodeRecord{}}
		if prev != nil {
			e.rec.History = prev.History
		}
		g.nodes[h.NodeId] = e
	}
	replaced := ok && e.detachedAt.IsZero() && e.end != nil
	if replaced {
		e.end(status.Errorf(codes.Aborted, "node %s: replaced by a newer stream of the same node", h.NodeId))
		g.log.Warn("node opened a second stream; the newer one replaces the older", "node", h.NodeId)
	}
	e.session, e.end = g.nextSes, end
	e.detachedAt = time.Time{}
	e.rec.Node = &edgelabv1.Node{
		Id: h.NodeId, Region: h.Region, Pop: h.Pop, AppliedRevision: h.LastRevision,
		LastSeen: now, AttachedTo: g.serverID, Connected: true, HttpUrl: h.HttpUrl,
		ConnectedSince: now, Health: "ok", Role: nodeRole(h.Role),
	}
	if replaced {
		e.rec.Node.LastError = "an older stream of this node was replaced by this one"
	}
	g.markLocked(e)
	return e.session
}

func (g *nodeRegistry) markLocked(e *nodeEntry) {
	e.dirty = true
	select {
	case g.kick <- struct{}{}:
	default:
	}
}

// entryLocked returns the node's entry if session is still the current one.
func (g *nodeRegistry) entryLocked(id string, session uint64) *nodeEntry {
	e, ok := g.nodes[id]
	if !ok || e.session != session {
		return nil
	}
	return e
}

func (g *nodeRegistry) recordLocked(e *nodeEntry, rev int64) *edgelabv1.AckRecord {
	h := e.rec.History
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Revision == rev {
			return h[i]
		}
		if h[i].Revision < rev {
			break
		}
	}
	r := &edgelabv1.AckRecord{Revision: rev}
	i := sort.Search(len(h), func(i int) bool { return h[i].Revision > rev })
	h = append(h, nil)
	copy(h[i+1:], h[i:])
	h[i] = r
	if len(h) > maxAckHistory {
		h = h[len(h)-maxAckHistory:]
	}
	e.rec.History = h
	return r
}

// sent records that revision rev (first seen at changed) went to the node.
func (g *nodeRegistry) sent(id string, session uint64, rev int64, changed, at time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.entryLocked(id, session)
	if e == nil {
		return
	}
	r := g.recordLocked(e, rev)
	r.Sent = timestamppb.New(at)
	if !changed.IsZero() && r.Changed == nil {
		r.Changed = timestamppb.New(changed)
	}
	g.markLocked(e)
}

// acked records an ACK or NACK and returns the send->ack latency (0 if unknown).
func (g *nodeRegistry) acked(id string, session uint64, a *edgelabv1.Ack) time.Duration {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.entryLocked(id, session)
	if e == nil {
		return 0
	}
	r := g.recordLocked(e, a.Revision)
	r.Acked = timestamppb.New(now)
	r.Received, r.Applied = a.Received, a.Applied
	r.Ok, r.Error = a.Ok, a.Error
	n := e.rec.Node
	n.LastSeen = r.Acked
	if a.Ok {
		n.AppliedRevision = max(n.AppliedRevision, a.Revision)
		n.LastError = ""
	} else {
		n.LastError = a.Error
	}
	g.markLocked(e)
	if r.Sent == nil {
		return 0
	}
	return now.Sub(r.Sent.AsTime())
}

// heartbeat refreshes last-seen and health.
func (g *nodeRegistry) heartbeat(id string, session uint64, hb *edgelabv1.Heartbeat) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.entryLocked(id, session)
	if e == nil {
		return
	}
	e.rec.Node.LastSeen = timestamppb.New(g.now())
	if hb.Health != "" {
		e.rec.Node.Health = hb.Health
	}
	g.markLocked(e)
}

// detach marks a node's stream closed; its record goes after the TTL.
func (g *nodeRegistry) detach(id string, session uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.entryLocked(id, session)
	if e == nil {
		return
	}
	e.detachedAt = g.now()
	e.rec.Node.Connected = false
	g.markLocked(e)
}

// appliedRevisions returns the applied revision of every attached node.
func (g *nodeRegistry) appliedRevisions() map[string]int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string]int64, len(g.nodes))
	for id, e := range g.nodes {
		if e.detachedAt.IsZero() {
			out[id] = e.rec.Node.AppliedRevision
		}
	}
	return out
}

// markAllDirty forces a rewrite of every record (after a new lease).
func (g *nodeRegistry) markAllDirty() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, e := range g.nodes {
		e.modRev = 0
		g.markLocked(e)
	}
}

type pendingWrite struct {
	id       string
	key      string
	value    string
	detached bool
	expired  bool
	modRev   int64
}

// flush writes dirty records and deletes expired ones. Attached nodes are put
// in batches under the lease; a detached node's last write is conditional on
// our previous write still being the latest, so a replica the node moved to
// is never overwritten.
func (g *nodeRegistry) flush(ctx context.Context, lease clientv3.LeaseID) error {
	now := g.now()
	var writes []pendingWrite
	g.mu.Lock()
	for id, e := range g.nodes {
		expired := !e.detachedAt.IsZero() && now.Sub(e.detachedAt) >= g.ttl
		if !e.dirty && !expired {
			continue
		}
		data, err := proto.Marshal(e.rec)
		if err != nil {
			g.mu.Unlock()
			return fmt.Errorf("encoding node %s: %w", id, err)
		}
		writes = append(writes, pendingWrite{id: id, key: g.keys.Node(id), value: string(data),
			detached: !e.detachedAt.IsZero(), expired: expired, modRev: e.modRev})
		e.dirty = false
		if expired {
			delete(g.nodes, id)
		}
	}
	g.mu.Unlock()
	if len(writes) == 0 {
		return nil
	}
	var batch []clientv3.Op
	var batchIDs []string
	var firstErr error
	flushBatch := func() {
		if len(batch) == 0 {
			return
		}
		resp, err := g.kv.Txn(ctx).Then(batch...).Commit()
		if err != nil {
			firstErr = fmt.Errorf("writing %d node records: %w", len(batch), err)
			g.remark(batchIDs)
		} else {
			g.setModRev(batchIDs, resp.Header.Revision)
		}
		batch, batchIDs = nil, nil
	}
	for _, w := range writes {
		switch {
		case w.expired || w.detached:
			cmp := clientv3.Compare(clientv3.ModRevision(w.key), "=", w.modRev)
			op := clientv3.OpPut(w.key, w.value, clientv3.WithLease(lease))
			if w.expired {
				op = clientv3.OpDelete(w.key)
			}
			resp, err := g.kv.Txn(ctx).If(cmp).Then(op).Commit()
			if err != nil {
				firstErr = fmt.Errorf("writing detached node %s: %w", w.id, err)
				if !w.expired {
					g.remark([]string{w.id})
				}
				continue
			}
			if resp.Succeeded && !w.expired {
				g.setModRev([]string{w.id}, resp.Header.Revision)
			}
		default:
			batch = append(batch, clientv3.OpPut(w.key, w.value, clientv3.WithLease(lease)))
			batchIDs = append(batchIDs, w.id)
			if len(batch) >= maxOpsPerTxn {
				flushBatch()
			}
		}
	}
	flushBatch()
	return firstErr
}

func (g *nodeRegistry) remark(ids []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, id := range ids {
		if e, ok := g.nodes[id]; ok {
			e.dirty = true
		}
	}
}

func (g *nodeRegistry) setModRev(ids []string, rev int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, id := range ids {
		if e, ok := g.nodes[id]; ok {
			e.modRev = rev
		}
	}
}

// readNodeRecords returns every stored node record (all replicas), by id.
func readNodeRecords(ctx context.Context, kv clientv3.KV, keys store.Keys) ([]*edgelabv1.NodeRecord, error) {
	resp, err := kv.Get(ctx, keys.Nodes(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("reading node records: %w", err)
	}
	out := make([]*edgelabv1.NodeRecord, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		rec := &edgelabv1.NodeRecord{}
		if err := proto.Unmarshal(kv.Value, rec); err != nil || rec.Node == nil {
			continue
		}
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node.Id < out[j].Node.Id })
	return out, nil
}
