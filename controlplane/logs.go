package controlplane

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/store"
	"github.com/edgelab/edgelab/topology"
)

// maxPendingLogs bounds buffered lines between flushes; beyond it lines are dropped.
const maxPendingLogs = 10000

// maxLogMessage bounds one stored line's message.
const maxLogMessage = 4096

// logStore is the regional function-log store: lines that nodes send on
// their streams are buffered and written in batches under a lease (so they
// expire), and each region/function prefix is trimmed to a cap. Safe for
// concurrent use.
type logStore struct {
	kv      clientv3.KV
	watcher clientv3.Watcher
	leases  clientv3.Lease
	keys    store.Keys
	top     *topology.Topology
	log     *slog.Logger
	cap     int

	mu        sync.Mutex
	pending   []*edgelabv1.LogLine
	dropped   int
	lease     clientv3.LeaseID
	leaseTime time.Time
	touched   map[string]bool // region/function prefixes written since the last trim
	lastTrim  time.Time
}

func newLogStore(kv clientv3.KV, w clientv3.Watcher, leases clientv3.Lease, keys store.Keys, top *topology.Topology, log *slog.Logger, limit int) *logStore {
	return &logStore{kv: kv, watcher: w, leases: leases, keys: keys, top: top, log: log, cap: limit, touched: map[string]bool{}}
}

// validLogPart reports whether s can be one path element of a log key.
func validLogPart(s string) bool {
	return s != "" && len(s) <= 128 && !strings.ContainsAny(s, "/\x00")
}

// add buffers lines from a node; the node's id and region override what the line claims.
func (s *logStore) add(h *edgelabv1.Hello, lines []*edgelabv1.LogLine) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range lines {
		if l == nil || !validLogPart(l.Function) {
			continue
		}
		if len(s.pending) >= maxPendingLogs {
			s.dropped++
			continue
		}
		c := proto.Clone(l).(*edgelabv1.LogLine)
		c.Node, c.Region = h.NodeId, h.Region
		if c.Region == "" {
			c.Region = "unknown"
		}
		if c.Time == nil {
			c.Time = timestamppb.Now()
		}
		if len(c.Message) > maxLogMessage {
			c.Message = c.Message[:maxLogMessage]
		}
		s.pending = append(s.pending, c)
	}
}

// flush writes buffered lines. A new lease is granted every ttl/6 so lines
// live between ttl and 7/6 ttl.
func (s *logStore) flush(ctx context.Context, ttl time.Duration) error {
	s.mu.Lock()
	lines := s.pending
	s.pending = nil
	dropped := s.dropped
	s.dropped = 0
	s.mu.Unlock()
	if dropped > 0 {
		s.log.Warn("function log lines dropped (buffer full)", "lines", dropped)
	}
	if len(lines) == 0 {
		return s.trim(ctx)
	}
	if s.lease == 0 || time.Since(s.leaseTime) > ttl/6 {
		resp, err := s.leaseGranter().Grant(ctx, max(int64(ttl/time.Second), 1))
		if err != nil {
			return fmt.Errorf("granting log lease: %w", err)
		}
		s.lease, s.leaseTime = resp.ID, time.Now()
	}
	var ops []clientv3.Op
	for _, l := range lines {
		data, err := proto.Marshal(l)
		if err != nil {
			continue
		}
		key := s.keys.Log(l.Region, l.Function, l.Time.AsTime().UnixNano(), l.Node)
		ops = append(ops, clientv3.OpPut(key, string(data), clientv3.WithLease(s.lease)))
		s.touched[s.prefix(l.Region, l.Function)] = true
		if len(ops) >= maxOpsPerTxn {
			if _, err := s.kv.Txn(ctx).Then(ops...).Commit(); err != nil {
				return fmt.Errorf("writing %d log lines: %w", len(ops), err)
			}
			ops = nil
		}
	}
	if len(ops) > 0 {
		if _, err := s.kv.Txn(ctx).Then(ops...).Commit(); err != nil {
			return fmt.Errorf("writing %d log lines: %w", len(ops), err)
		}
	}
	return s.trim(ctx)
}

func (s *logStore) leaseGranter() clientv3.Lease { return s.leases }

func (s *logStore) prefix(region, function string) string {
	return s.keys.Logs() + region + "/" + function + "/"
}

// trim deletes the oldest lines beyond the cap, at most once a second.
func (s *logStore) trim(ctx context.Context) error {
	if len(s.touched) == 0 || time.Since(s.lastTrim) < time.Second {
		return nil
	}
	s.lastTrim = time.Now()
	for p := range s.touched {
		delete(s.touched, p)
		resp, err := s.kv.Get(ctx, p, clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			return fmt.Errorf("counting logs under %s: %w", p, err)
		}
		over := resp.Count - int64(s.cap)
		if over <= 0 {
			continue
		}
		old, err := s.kv.Get(ctx, p, clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithLimit(over),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
		if err != nil || len(old.Kvs) == 0 {
			continue
		}
		last := string(old.Kvs[len(old.Kvs)-1].Key)
		if _, err := s.kv.Delete(ctx, p, clientv3.WithRange(last+"\x00")); err != nil {
			return fmt.Errorf("trimming logs under %s: %w", p, err)
		}
	}
	return nil
}

// GetLogs returns the newest lines of a function (all regions unless one is
// named), oldest first, at most limit (default 100, max 1000).
func (r *Replicator) GetLogs(ctx context.Context, req *edgelabv1.GetLogsRequest) (*edgelabv1.GetLogsResponse, error) {
	if req.Function != "" && !validLogPart(req.Function) {
		return nil, status.Errorf(codes.InvalidArgument, "invalid function name %q", req.Function)
	}
	if req.Region != "" && !validLogPart(req.Region) {
		return nil, status.Errorf(codes.InvalidArgument, "invalid region %q", req.Region)
	}
	limit := int64(req.Limit)
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var regions []string
	if req.Region != "" {
		regions = []string{req.Region}
	} else {
		regions = append(r.top.Regions(), "unknown")
	}
	var lines []*edgelabv1.LogLine
	for _, region := range regions {
		prefix := r.cfg.Keys.Logs() + region + "/"
		if req.Function != "" {
			prefix += req.Function + "/"
		}
		resp, err := r.cfg.KV.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithLimit(limit),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
		if err != nil {
			return nil, status.Errorf(codes.Unavailable, "reading logs: %v", err)
		}
		for _, kv := range resp.Kvs {
			l := &edgelabv1.LogLine{}
			if proto.Unmarshal(kv.Value, l) != nil {
				continue
			}
			if req.Since != nil && l.Time.AsTime().Before(req.Since.AsTime()) {
				continue
			}
			lines = append(lines, l)
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Time.AsTime().Before(lines[j].Time.AsTime()) })
	if int64(len(lines)) > limit {
		lines = lines[int64(len(lines))-limit:]
	}
	return &edgelabv1.GetLogsResponse{Lines: lines}, nil
}

// StreamLogs follows new lines of a function (optionally one region) until
// the client goes away.
func (r *Replicator) StreamLogs(req *edgelabv1.StreamLogsRequest, stream edgelabv1.ControlPlaneService_StreamLogsServer) error {
	if req.Function != "" && !validLogPart(req.Function) {
		return status.Errorf(codes.InvalidArgument, "invalid function name %q", req.Function)
	}
	if req.Region != "" && !validLogPart(req.Region) {
		return status.Errorf(codes.InvalidArgument, "invalid region %q", req.Region)
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	prefix := r.cfg.Keys.Logs()
	if req.Region != "" {
		prefix += req.Region + "/"
		if req.Function != "" {
			prefix += req.Function + "/"
		}
	}
	ch := r.cfg.Watcher.Watch(clientv3.WithRequireLeader(ctx), prefix, clientv3.WithPrefix())
	for {
		select {
		case <-r.closing:
			return status.Error(codes.Unavailable, "control-plane replica shutting down")
		case resp, ok := <-ch:
			if !ok {
				return status.FromContextError(ctx.Err()).Err()
			}
			if err := resp.Err(); err != nil {
				return status.Errorf(codes.Unavailable, "watching logs: %v", err)
			}
			for _, ev := range resp.Events {
				if ev.Type != clientv3.EventTypePut {
					continue
				}
				l := &edgelabv1.LogLine{}
				if proto.Unmarshal(ev.Kv.Value, l) != nil {
					continue
				}
				if req.Function != "" && l.Function != req.Function {
					continue
				}
				if err := stream.Send(&edgelabv1.StreamLogsResponse{Line: l}); err != nil {
					return err
				}
			}
		}
	}
}
