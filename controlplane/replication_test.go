package controlplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/edgenode/replica"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/store"
	"github.com/edgelab/edgelab/store/embedded"
	"github.com/edgelab/edgelab/topology"
)

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// lab is an embedded etcd plus control-plane replicas, each on its own gRPC server.
type lab struct {
	t    *testing.T
	cli  *clientv3.Client
	keys store.Keys
	cps  []*cpReplica
}

type cpReplica struct {
	r      *Replicator
	srv    *grpc.Server
	addr   string
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// stop kills the replica: its gRPC server and its Replicator.
func (c *cpReplica) stop() {
	c.once.Do(func() {
		c.srv.Stop()
		c.cancel()
		c.r.Close()
		<-c.done
	})
}

func newLab(t testing.TB, replicas int, top *topology.Topology, profile string) *lab {
	t.Helper()
	return newLabWith(t, replicas, top, profile, nil)
}

// newLabWith is newLab whose replicas serve with the gRPC server options
// serverOpts returns (nil: plaintext, Hello trusted).
func newLabWith(t testing.TB, replicas int, top *topology.Topology, profile string, serverOpts func(*lab) []grpc.ServerOption) *lab {
	t.Helper()
	e, err := embedded.Start(context.Background(), filepath.Join(t.TempDir(), "etcd"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	cli, err := clientv3.New(clientv3.Config{Endpoints: e.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	l := &lab{t: nil, cli: cli, keys: store.NewKeys("/test/")}
	if tt, ok := t.(*testing.T); ok {
		l.t = tt
	}
	for i := range replicas {
		cfg := replicaConfig(cli, l.keys, fmt.Sprintf("cp-%d", i), top, profile, nil)
		var opts []grpc.ServerOption
		if serverOpts != nil {
			opts = serverOpts(l)
		}
		l.cps = append(l.cps, serveReplicatorWith(t, cfg, opts...))
	}
	return l
}

func startReplica(t testing.TB, cli *clientv3.Client, keys store.Keys, id string, top *topology.Topology, profile string) *cpReplica {
	t.Helper()
	return startReplicaReg(t, cli, keys, id, top, profile, nil)
}

func startReplicaReg(t testing.TB, cli *clientv3.Client, keys store.Keys, id string, top *topology.Topology, profile string, reg prometheus.Registerer) *cpReplica {
	t.Helper()
	return serveReplicator(t, replicaConfig(cli, keys, id, top, profile, reg))
}

func replicaConfig(cli *clientv3.Client, keys store.Keys, id string, top *topology.Topology, profile string, reg prometheus.Registerer) ReplicatorConfig {
	return ReplicatorConfig{
		KV: cli, Watcher: cli, Lease: cli, Keys: keys, ServerID: id, Registerer: reg,
		Topology: top, Profile: profile, Logger: quietLogger(),
		NodeTTL: 2 * time.Second, PingInterval: time.Second,
	}
}

// serveReplicator builds a Replicator from cfg, serves it on 127.0.0.1:0 and
// runs it until the test ends (or stop).
func serveReplicator(t testing.TB, cfg ReplicatorConfig) *cpReplica {
	t.Helper()
	return serveReplicatorWith(t, cfg)
}

// serveReplicatorWith serves with gRPC server options; without any, the
// server is plain (no guard, no certificates) and trusts the Hello.
func serveReplicatorWith(t testing.TB, cfg ReplicatorConfig, opts ...grpc.ServerOption) *cpReplica {
	t.Helper()
	cfg.TrustHello = len(opts) == 0
	r, err := NewReplicator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	edgelabv1.RegisterReplicationServiceServer(srv, r)
	ctx, cancel := context.WithCancel(context.Background())
	c := &cpReplica{r: r, srv: srv, addr: lis.Addr().String(), cancel: cancel, done: make(chan struct{})}
	go func() { _ = srv.Serve(lis) }()
	go func() {
		defer close(c.done)
		if err := r.Run(ctx); err != nil {
			t.Errorf("replicator %s: %v", cfg.ServerID, err)
		}
	}()
	t.Cleanup(c.stop)
	return c
}

func (l *lab) addrs() []string {
	var out []string
	for _, c := range l.cps {
		out = append(out, c.addr)
	}
	return out
}

// putVersion stores a function version as the CRUD API would.
func (l *lab) putVersion(t testing.TB, name string, v int64, body string) int64 {
	t.Helper()
	fv := &edgelabv1.FunctionVersion{Name: name, Version: v, Files: []*edgelabv1.SourceFile{{Name: "f.go", Content: []byte(body)}},
		Published: timestamppb.Now()}
	return l.put(t, l.keys.Version(name, v), fv)
}

// putDist stores a distribution using the given function versions ("name:v").
func (l *lab) putDist(t testing.TB, id string, fns ...string) int64 {
	t.Helper()
	b := &edgelabv1.Behavior{Path: "default", Origin: "web"}
	for _, f := range fns {
		name, v, _ := strings.Cut(f, ":")
		var n int64
		fmt.Sscan(v, &n)
		b.Functions = append(b.Functions, &edgelabv1.Association{EventType: edgelabv1.EventType_EVENT_TYPE_VIEWER_REQUEST, Function: name, Version: n})
	}
	d := &edgelabv1.Distribution{Id: id, Domains: []string{id + ".test"}, Origins: []*edgelabv1.Origin{{Id: "web", Url: "http://127.0.0.1:1"}},
		Behaviors: []*edgelabv1.Behavior{b}, Updated: timestamppb.Now()}
	return l.put(t, l.keys.Distribution(id), d)
}

func (l *lab) put(t testing.TB, key string, m proto.Message) int64 {
	t.Helper()
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := l.cli.Put(context.Background(), key, string(data))
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Revision
}

// recorder is a fake Applier that records every successful apply.
type recorder struct {
	mu      sync.Mutex
	fail    func(*edgelabv1.Snapshot) error
	applied []*edgelabv1.Snapshot
	invs    []*edgelabv1.Invalidation
	times   []time.Time
}

func (r *recorder) Apply(_ context.Context, s *edgelabv1.Snapshot, invs []*edgelabv1.Invalidation) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(s); err != nil {
			return err
		}
	}
	r.applied = append(r.applied, s)
	r.invs = append(r.invs, invs...)
	r.times = append(r.times, time.Now())
	return nil
}

func (r *recorder) last() *edgelabv1.Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.applied) == 0 {
		return nil
	}
	return r.applied[len(r.applied)-1]
}

// describe renders a state as "dist[fn:v,...];..." for comparisons.
func describe(s *edgelabv1.Snapshot) string {
	if s == nil {
		return "<none>"
	}
	var parts []string
	for _, d := range s.Distributions {
		parts = append(parts, "d:"+d.Id)
	}
	for _, f := range s.Functions {
		parts = append(parts, fmt.Sprintf("f:%s:%d", f.Name, f.Version))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

type node struct {
	id     string
	c      *replica.Client
	rec    *recorder
	cancel context.CancelFunc
	done   chan struct{}
}

func (n *node) stop() {
	n.cancel()
	<-n.done
}

func startNode(t testing.TB, id, region string, endpoints []string, dir string, rec *recorder) *node {
	t.Helper()
	if rec == nil {
		rec = &recorder{}
	}
	c, err := replica.New(replica.Config{DialOptions: plaintext(),
		NodeID: id, Region: region, PoP: "X", Endpoints: endpoints, StateDir: dir, Applier: rec,
		Logger: quietLogger(), BackoffInitial: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		HeartbeatInterval: 200 * time.Millisecond, DeadAfter: 3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{id: id, c: c, rec: rec, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(n.done)
		if err := c.Run(ctx); err != nil {
			t.Errorf("node %s: %v", id, err)
		}
	}()
	t.Cleanup(n.stop)
	return n
}

func waitConverged(t testing.TB, nodes []*node, rev int64) {
	t.Helper()
	poll.True(t, 20*time.Second, fmt.Sprintf("all nodes at revision >= %d", rev), func() bool {
		for _, n := range nodes {
			if n.c.Revision() < rev {
				return false
			}
		}
		return true
	})
}

func checkHistories(t *testing.T, nodes []*node) {
	t.Helper()
	for _, n := range nodes {
		h := n.c.History()
		for i := 1; i < len(h); i++ {
			if h[i] <= h[i-1] {
				t.Errorf("node %s: applied revisions not strictly increasing: %v", n.id, h)
			}
		}
	}
}

var regions5 = []string{"us-east-1", "eu-west-1", "ap-northeast-1", "sa-east-1", "ap-southeast-2", "us-west-2"}

func TestReplicationConvergesAndFailsOver(t *testing.T) {
	l := newLab(t, 2, nil, "instant")
	l.putVersion(t, "auth", 1, "v1")
	l.putDist(t, "d0", "auth:1")
	var nodes []*node
	for i, region := range regions5 {
		// Half attach to cp-0 first, half to cp-1.
		eps := l.addrs()
		if i%2 == 1 {
			eps = []string{eps[1], eps[0]}
		}
		nodes = append(nodes, startNode(t, fmt.Sprintf("n%d", i), region, eps, t.TempDir(), nil))
	}
	var rev int64
	for v := int64(2); v <= 5; v++ {
		l.putVersion(t, "auth", v, fmt.Sprintf("v%d", v))
		rev = l.putDist(t, "d0", fmt.Sprintf("auth:%d", v))
	}
	rev = l.putDist(t, "d1")
	waitConverged(t, nodes, rev)
	want := "d:d0,d:d1,f:auth:5"
	for _, n := range nodes {
		if got := describe(n.rec.last()); got != want {
			t.Errorf("node %s state %q, want %q", n.id, got, want)
		}
	}

	// Status: every node present and Deployed.
	ctx := context.Background()
	poll.True(t, 10*time.Second, "status Deployed with 6 nodes", func() bool {
		st, err := l.cps[1].r.GetStatus(ctx, &edgelabv1.GetStatusRequest{DistributionId: "d0"})
		if err != nil || len(st.Distributions) != 1 {
			return false
		}
		d := st.Distributions[0]
		return d.State == edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED && len(d.Nodes) == len(nodes)
	})
	ln, err := l.cps[0].r.ListNodes(ctx, &edgelabv1.ListNodesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ln.Nodes) != len(nodes) {
		t.Fatalf("ListNodes: %d nodes, want %d", len(ln.Nodes), len(nodes))
	}

	// Kill cp-0: its nodes resume on cp-1 and lose nothing.
	l.cps[0].stop()
	l.putVersion(t, "auth", 6, "v6")
	l.putDist(t, "d0", "auth:6")
	rev = l.putDist(t, "d2", "auth:6")
	waitConverged(t, nodes, rev)
	want = "d:d0,d:d1,d:d2,f:auth:6"
	for _, n := range nodes {
		if got := describe(n.rec.last()); got != want {
			t.Errorf("after failover node %s state %q, want %q", n.id, got, want)
		}
		// Resumed with deltas, not a fresh snapshot.
		if s := n.c.Snapshots(); s != 1 {
			t.Errorf("node %s received %d snapshots, want 1 (initial only)", n.id, s)
		}
	}
	checkHistories(t, nodes)
	poll.True(t, 10*time.Second, "nodes re-attached to cp-1", func() bool {
		ln, err := l.cps[1].r.ListNodes(ctx, &edgelabv1.ListNodesRequest{})
		if err != nil || len(ln.Nodes) != len(nodes) {
			return false
		}
		for _, n := range ln.Nodes {
			if n.AttachedTo != "cp-1" || !n.Connected {
				return false
			}
		}
		return true
	})
}

func TestCompactionForcesSnapshot(t *testing.T) {
	l := newLab(t, 1, nil, "instant")
	l.putVersion(t, "f", 1, "x")
	rev := l.putDist(t, "d", "f:1")
	dir := t.TempDir()
	n := startNode(t, "lagger", "eu-west-1", l.addrs(), dir, nil)
	waitConverged(t, []*node{n}, rev)
	n.stop()
	before := n.c.History()

	l.putVersion(t, "f", 2, "y")
	rev = l.putDist(t, "d", "f:2")
	if _, err := l.cli.Compact(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	n2 := startNode(t, "lagger", "eu-west-1", l.addrs(), dir, nil)
	waitConverged(t, []*node{n2}, rev)
	if got := n2.c.Snapshots(); got != 1 {
		t.Errorf("snapshots after compaction = %d, want 1", got)
	}
	if got := describe(n2.rec.last()); got != "d:d,f:f:2" {
		t.Errorf("state %q", got)
	}
	h := n2.c.History()
	if len(h) != 2 || h[0] != before[len(before)-1] || h[1] != rev {
		t.Errorf("history after restart %v, want [%d %d] (disk state, then snapshot)", h, before[len(before)-1], rev)
	}
}

func TestStaticStabilityFromDisk(t *testing.T) {
	l := newLab(t, 1, nil, "instant")
	l.putVersion(t, "f", 1, "x")
	rev := l.putDist(t, "d", "f:1")
	dir := t.TempDir()
	n := startNode(t, "n", "us-east-1", l.addrs(), dir, nil)
	waitConverged(t, []*node{n}, rev)
	n.stop()
	l.cps[0].stop()

	// No control plane reachable: the node serves its last state at once.
	dead := []string{l.cps[0].addr, "127.0.0.1:1"}
	n2 := startNode(t, "n", "us-east-1", dead, dir, nil)
	poll.True(t, 5*time.Second, "state applied from disk", func() bool { return n2.c.Revision() == rev })
	if got := describe(n2.rec.last()); got != "d:d,f:f:1" {
		t.Fatalf("state from disk %q", got)
	}
	// Back online: a new replica; the node resumes.
	cp := startReplica(t, l.cli, l.keys, "cp-new", nil, "instant")
	l.putVersion(t, "f", 2, "y")
	rev2 := l.putDist(t, "d", "f:2")
	n2.stop()
	n3 := startNode(t, "n", "us-east-1", []string{cp.addr}, dir, nil)
	waitConverged(t, []*node{n3}, rev2)
}

func TestCorruptStateIgnored(t *testing.T) {
	l := newLab(t, 1, nil, "instant")
	rev := l.putDist(t, "d")
	poll.True(t, 5*time.Second, "hub at the latest revision", func() bool { r, _, _ := l.cps[0].r.hub.current(); return r >= rev })
	dir := t.TempDir()
	for name, content := range map[string][]byte{
		"garbage": []byte("\xff\xfe not a proto"),
		"zero":    {},
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, "state.pb"), content, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := replica.LoadState(dir); err == nil {
				t.Fatal("LoadState accepted a corrupt file")
			}
			n := startNode(t, "c-"+name, "us-east-1", l.addrs(), dir, nil)
			waitConverged(t, []*node{n}, rev)
			if h := n.c.History(); h[0] != rev {
				t.Fatalf("history %v: corrupt state was applied", h)
			}
			n.stop()
			if s, err := replica.LoadState(dir); err != nil || s.Revision != rev {
				t.Fatalf("state not rewritten: %v %v", s, err)
			}
		})
	}
}

func TestNackKeepsPreviousStateAndShowsFailed(t *testing.T) {
	l := newLab(t, 1, nil, "instant")
	l.putVersion(t, "f", 1, "ok")
	l.putVersion(t, "f", 2, "does not compile")
	rev1 := l.putDist(t, "d", "f:1")
	bad := &recorder{fail: func(s *edgelabv1.Snapshot) error {
		for _, f := range s.Functions {
			if f.Version == 2 {
				return errors.New("f:2: compile: f.go:1: syntax error")
			}
		}
		return nil
	}}
	picky := startNode(t, "picky", "eu-west-1", l.addrs(), t.TempDir(), bad)
	good := startNode(t, "good", "us-east-1", l.addrs(), t.TempDir(), nil)
	waitConverged(t, []*node{picky, good}, rev1)

	rev2 := l.putDist(t, "d", "f:2")
	waitConverged(t, []*node{good}, rev2)
	ctx := context.Background()
	var st *edgelabv1.DistributionStatus
	poll.True(t, 10*time.Second, "status Failed", func() bool {
		resp, err := l.cps[0].r.GetStatus(ctx, &edgelabv1.GetStatusRequest{DistributionId: "d"})
		if err != nil {
			return false
		}
		st = resp.Distributions[0]
		deployed := 0
		for _, ns := range st.Nodes {
			if ns.State == edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED {
				deployed++
			}
		}
		return st.State == edgelabv1.DeploymentState_DEPLOYMENT_STATE_FAILED && deployed == 1
	})
	for _, ns := range st.Nodes {
		switch ns.NodeId {
		case "picky":
			if ns.State != edgelabv1.DeploymentState_DEPLOYMENT_STATE_FAILED || !strings.Contains(ns.Error, "syntax error") {
				t.Errorf("picky status %v", ns)
			}
		case "good":
			if ns.State != edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED {
				t.Errorf("good status %v", ns)
			}
		}
	}
	if picky.c.Revision() != rev1 || describe(picky.rec.last()) != "d:d,f:f:1" {
		t.Errorf("picky node moved off its good state: rev %d state %q", picky.c.Revision(), describe(picky.rec.last()))
	}
	// Roll back: the picky node recovers and the distribution is Deployed.
	rev3 := l.putDist(t, "d", "f:1")
	waitConverged(t, []*node{picky, good}, rev3)
	poll.True(t, 10*time.Second, "status Deployed", func() bool {
		resp, err := l.cps[0].r.GetStatus(ctx, &edgelabv1.GetStatusRequest{DistributionId: "d"})
		return err == nil && resp.Distributions[0].State == edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED
	})
	checkHistories(t, []*node{picky, good})
	if _, err := l.cps[0].r.GetStatus(ctx, &edgelabv1.GetStatusRequest{DistributionId: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("unknown distribution: %v", err)
	}
}

func TestInvalidationsReplicate(t *testing.T) {
	l := newLab(t, 1, nil, "instant")
	rev := l.putDist(t, "d")
	n := startNode(t, "n", "us-east-1", l.addrs(), "", nil)
	waitConverged(t, []*node{n}, rev)
	rev = l.put(t, l.keys.Invalidation("d", "i1"), &edgelabv1.Invalidation{Id: "i1", DistributionId: "d", Paths: []string{"/img/*"}})
	waitConverged(t, []*node{n}, rev)
	n.rec.mu.Lock()
	defer n.rec.mu.Unlock()
	if len(n.rec.invs) != 1 || n.rec.invs[0].Paths[0] != "/img/*" || n.rec.invs[0].Revision != rev {
		t.Fatalf("invalidations %v", n.rec.invs)
	}
}

func TestLogsStoredAndRead(t *testing.T) {
	l := newLab(t, 1, nil, "instant")
	rev := l.putDist(t, "d")
	n := startNode(t, "n", "eu-west-1", l.addrs(), "", nil)
	waitConverged(t, []*node{n}, rev)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n.c.SendLogs([]*edgelabv1.LogLine{
		{Time: timestamppb.Now(), Message: "hello", Function: "auth", Region: "forged"},
		{Time: timestamppb.Now(), Message: "bad name", Function: "../etc"},
	})
	var lines []*edgelabv1.LogLine
	poll.True(t, 10*time.Second, "log line stored", func() bool {
		resp, err := l.cps[0].r.GetLogs(ctx, &edgelabv1.GetLogsRequest{Function: "auth"})
		if err != nil {
			return false
		}
		lines = resp.Lines
		return len(lines) == 1
	})
	if lines[0].Region != "eu-west-1" || lines[0].Node != "n" || lines[0].Message != "hello" {
		t.Fatalf("line %v", lines[0])
	}
	if _, err := l.cps[0].r.GetLogs(ctx, &edgelabv1.GetLogsRequest{Function: "a/b"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("hostile function name: %v", err)
	}
}

func TestStreamRejectsBadHello(t *testing.T) {
	l := newLab(t, 1, nil, "instant")
	conn, err := grpc.NewClient(l.cps[0].addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tests := []struct {
		name string
		msg  *edgelabv1.StreamRequest
	}{
		{"ack first", &edgelabv1.StreamRequest{Msg: &edgelabv1.StreamRequest_Ack{Ack: &edgelabv1.Ack{Revision: 1}}}},
		{"empty id", &edgelabv1.StreamRequest{Msg: &edgelabv1.StreamRequest_Hello{Hello: &edgelabv1.Hello{}}}},
		{"negative rev", &edgelabv1.StreamRequest{Msg: &edgelabv1.StreamRequest_Hello{Hello: &edgelabv1.Hello{NodeId: "x", LastRevision: -5}}}},
		{"empty message", &edgelabv1.StreamRequest{}},
		{"message limit below the minimum", &edgelabv1.StreamRequest{Msg: &edgelabv1.StreamRequest_Hello{Hello: &edgelabv1.Hello{NodeId: "x", MaxMessageBytes: 1000}}}},
		{"negative message limit", &edgelabv1.StreamRequest{Msg: &edgelabv1.StreamRequest_Hello{Hello: &edgelabv1.Hello{NodeId: "x", MaxMessageBytes: -1}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s, err := edgelabv1.NewReplicationServiceClient(conn).Stream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(tc.msg); err != nil {
				t.Fatal(err)
			}
			_, err = s.Recv()
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("got %v, want InvalidArgument", err)
			}
		})
	}
}

// TestDelayModel: with a scaled-down matrix and no jitter, per-region
// convergence follows the model within +/-20%.
func TestDelayModel(t *testing.T) {
	top, err := topology.Parse([]byte(`home: h
regions: [{name: h, pops: [H]}, {name: near, pops: [N]}, {name: mid, pops: [M]}, {name: far, pops: [F]}]
latency: {h: {h: 0, near: 25, mid: 50, far: 100}, near: {near: 0, mid: 25, far: 75}, mid: {mid: 0, far: 50}, far: {far: 0}}
profiles:
  test: {scale: 8}
`))
	if err != nil {
		t.Fatal(err)
	}
	l := newLab(t, 1, top, "test")
	rev := l.putDist(t, "d")
	var nodes []*node
	for _, region := range []string{"far", "mid", "near", "h"} {
		nodes = append(nodes, startNode(t, "n-"+region, region, l.addrs(), "", nil))
	}
	waitConverged(t, nodes, rev)
	p, _ := top.Profile("test")
	for round := range 2 {
		start := time.Now()
		rev = l.putDist(t, "d", fmt.Sprintf("f:%d", round+1))
		waitConverged(t, nodes, rev)
		type arrival struct {
			region string
			took   time.Duration
		}
		var got []arrival
		for _, n := range nodes {
			n.rec.mu.Lock()
			at := n.rec.times[len(n.rec.times)-1]
			n.rec.mu.Unlock()
			region := strings.TrimPrefix(n.id, "n-")
			took := at.Sub(start)
			want := p.Delay(region, "h", top, nil)
			got = append(got, arrival{region, took})
			slack := want / 5
			if region == "h" {
				slack = 30 * time.Millisecond // 0 ms modelled: allow processing time
			}
			if took < want-slack || took > want+slack {
				t.Errorf("round %d: region %s converged in %v, model %v (+/-%v)", round, region, took, want, slack)
			}
		}
		sort.Slice(got, func(i, j int) bool { return got[i].took < got[j].took })
		var order []string
		for _, a := range got {
			order = append(order, a.region)
		}
		if !slices.Equal(order, []string{"h", "near", "mid", "far"}) {
			t.Errorf("round %d: convergence order %v", round, order)
		}
	}
}

func TestMetricsExported(t *testing.T) {
	l := newLab(t, 0, nil, "instant")
	reg := prometheus.NewRegistry()
	cp := startReplicaReg(t, l.cli, l.keys, "cp-m", nil, "instant", reg)
	rev := l.putDist(t, "d")
	n := startNode(t, "n", "us-east-1", []string{cp.addr}, "", nil)
	waitConverged(t, []*node{n}, rev)
	want := map[string]bool{
		"edgelab_replication_connected_nodes": false, "edgelab_replication_snapshots_total": false,
		"edgelab_replication_ack_latency_seconds": false, "edgelab_replication_revision_lag": false,
	}
	poll.True(t, 5*time.Second, "metrics", func() bool {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if _, ok := want[mf.GetName()]; !ok || len(mf.Metric) == 0 {
				continue
			}
			m := mf.Metric[0]
			switch mf.GetName() {
			case "edgelab_replication_connected_nodes":
				want[mf.GetName()] = m.GetGauge().GetValue() == 1
			case "edgelab_replication_snapshots_total":
				want[mf.GetName()] = m.GetCounter().GetValue() >= 1
			case "edgelab_replication_ack_latency_seconds":
				want[mf.GetName()] = m.GetHistogram().GetSampleCount() >= 1
			case "edgelab_replication_revision_lag":
				want[mf.GetName()] = m.GetGauge().GetValue() == 0
			}
		}
		for _, ok := range want {
			if !ok {
				return false
			}
		}
		return true
	})
	// A second Replicator on the same registry is refused (no silent double registration).
	if _, err := NewReplicator(ReplicatorConfig{KV: l.cli, Watcher: l.cli, Lease: l.cli, ServerID: "dup", Registerer: reg}); err == nil {
		t.Fatal("duplicate metrics registration accepted")
	}
}

// A node that goes away leaves ListNodes and the status once its record's
// lease expires (NodeTTL, 2 s in these tests); the others stay.
func TestDeadNodeLeavesAfterLease(t *testing.T) {
	l := newLab(t, 1, nil, "instant")
	l.putVersion(t, "f", 1, "x")
	rev := l.putDist(t, "d", "f:1")
	a := startNode(t, "a", "us-east-1", l.addrs(), "", nil)
	b := startNode(t, "b", "eu-west-1", l.addrs(), "", nil)
	waitConverged(t, []*node{a, b}, rev)
	ctx := context.Background()
	listed := func() map[string]bool {
		resp, err := l.cps[0].r.ListNodes(ctx, &edgelabv1.ListNodesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, n := range resp.GetNodes() {
			out[n.GetId()] = true
		}
		return out
	}
	poll.True(t, 10*time.Second, "both nodes listed", func() bool { m := listed(); return m["a"] && m["b"] })
	b.stop()
	poll.True(t, 15*time.Second, "the dead node to leave after its lease", func() bool { m := listed(); return !m["b"] })
	if !listed()["a"] {
		t.Fatal("the live node left too")
	}
	st, err := l.cps[0].r.GetStatus(ctx, &edgelabv1.GetStatusRequest{DistributionId: "d"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range st.GetDistributions() {
		for _, n := range d.GetNodes() {
			if n.GetNodeId() == "b" {
				t.Fatalf("dead node still in status: %v", n)
			}
		}
		if d.GetState() != edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED {
			t.Fatalf("status %v, want Deployed (the live node acked)", d.GetState())
		}
	}
}

// plaintext dials a test replicator, which serves without TLS.
func plaintext() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
}
