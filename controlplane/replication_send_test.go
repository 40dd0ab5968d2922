package controlplane

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/edgenode/replica"
	"github.com/edgelab/edgelab/internal/poll"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// putBigVersions stores n versions of name, each with size random bytes.
func (l *lab) putBigVersions(t *testing.T, name string, n, size int) []string {
	t.Helper()
	var refs []string
	for v := 1; v <= n; v++ {
		body := make([]byte, size)
		if _, err := rand.Read(body); err != nil {
			t.Fatal(err)
		}
		l.putVersion(t, name, int64(v), string(body))
		refs = append(refs, fmt.Sprintf("%s:%d", name, v))
	}
	return refs
}

// TestLargeUpdateArrivesInPieces: seven functions of 0.7 MB make a 4.9 MB
// update, above a node's default 4 MiB receive limit; the control plane
// sends it in chunks and the node applies the whole revision.
func TestLargeUpdateArrivesInPieces(t *testing.T) {
	l := newLab(t, 1, nil, "instant")
	n := startNode(t, "n1", "us-east-1", l.addrs(), t.TempDir(), nil)
	rev := l.putDist(t, "small")
	waitConverged(t, []*node{n}, rev)

	refs := l.putBigVersions(t, "big", 7, 700_000)
	rev = l.putDist(t, "large", refs...)
	deltas, gap, _ := l.cps[0].r.hub.since(rev - 1)
	poll.True(t, 10*time.Second, "the hub to see the large distribution", func() bool {
		deltas, gap, _ = l.cps[0].r.hub.since(rev - 1)
		return !gap && len(deltas) == 1
	})
	if size := proto.Size(&edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Delta{Delta: deltas[0]}}); size <= DefaultNodeMessageBytes {
		t.Fatalf("the update is %d bytes, not above the %d byte default limit: the test proves nothing", size, DefaultNodeMessageBytes)
	}
	waitConverged(t, []*node{n}, rev)
	got := n.rec.last()
	if want := "d:large,d:small,f:big:1,f:big:2,f:big:3,f:big:4,f:big:5,f:big:6,f:big:7"; describe(got) != want {
		t.Fatalf("node state %q, want %q", describe(got), want)
	}
	for _, f := range got.Functions {
		if len(f.Files[0].Content) != 700_000 {
			t.Fatalf("%s:%d arrived with %d bytes, want 700000", f.Name, f.Version, len(f.Files[0].Content))
		}
	}

	// A new node gets the same state as one chunked snapshot.
	n2 := startNode(t, "n2", "eu-west-1", l.addrs(), t.TempDir(), nil)
	waitConverged(t, []*node{n2}, rev)
	if describe(n2.rec.last()) != describe(got) || n2.c.Snapshots() != 1 {
		t.Fatalf("new node state %q after %d snapshots, want %q after 1", describe(n2.rec.last()), n2.c.Snapshots(), describe(got))
	}
	checkHistories(t, []*node{n, n2})
}

// TestNodeRecoversAfterUndeliverableUpdateDeleted: a node that cannot take
// an update (here one whose real receive limit, 1 MiB, is below the 4 MiB
// its Hello announced, as every node was before updates came in pieces)
// fails on it and reconnects; once the distribution is deleted it resumes
// with the changes coalesced from its revision, never receives the deleted
// functions, and catches up without a control-plane restart.
func TestNodeRecoversAfterUndeliverableUpdateDeleted(t *testing.T) {
	l := newLab(t, 1, nil, "instant")
	rec := &recorder{}
	c, err := replica.New(replica.Config{
		NodeID: "n1", Region: "us-east-1", Endpoints: l.addrs(), Applier: rec, Logger: quietLogger(),
		BackoffInitial: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, HeartbeatInterval: 200 * time.Millisecond,
		DialOptions: append(plaintext(), grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<20))),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	n := &node{id: "n1", c: c, rec: rec}

	rev := l.putDist(t, "small")
	waitConverged(t, []*node{n}, rev)
	sentBefore := deltasSent(t, l.cps[0])
	large := l.putDist(t, "large", l.putBigVersions(t, "big", 7, 700_000)...)
	poll.True(t, 20*time.Second, "the large update to be sent more than once (the node reconnecting into it)", func() bool {
		return deltasSent(t, l.cps[0]) >= sentBefore+3
	})
	if got := c.Revision(); got >= large {
		t.Fatalf("node applied revision %d, the test's node should not take the large update", got)
	}
	resp, err := l.cli.Delete(context.Background(), l.keys.Distribution("large"))
	if err != nil {
		t.Fatal(err)
	}
	waitConverged(t, []*node{n}, resp.Header.Revision)
	if got := describe(rec.last()); got != "d:small" {
		t.Fatalf("recovered state %q, want d:small", got)
	}
	for _, s := range rec.applied {
		if strings.Contains(describe(s), "big") {
			t.Fatalf("the node applied a state with the deleted functions: %s", describe(s))
		}
	}
}

func TestCheckDeliverableRefusesOversizeState(t *testing.T) {
	l := newLab(t, 0, nil, "instant")
	cp := serveReplicator(t, ReplicatorConfig{KV: l.cli, Watcher: l.cli, Lease: l.cli, Keys: l.keys, ServerID: "cp-0",
		Profile: "instant", Logger: quietLogger(), MaxUpdateBytes: 2 << 20})
	refs := l.putBigVersions(t, "big", 4, 700_000)
	rev := l.putDist(t, "other")
	poll.True(t, 10*time.Second, "the hub to follow etcd", func() bool { r, _, _ := cp.r.hub.current(); return r >= rev })
	d := func(fns ...string) *edgelabv1.Distribution {
		b := &edgelabv1.Behavior{Path: "default", Origin: "web"}
		for _, f := range fns {
			var v int64
			fmt.Sscanf(f, "big:%d", &v)
			b.Functions = append(b.Functions, &edgelabv1.Association{EventType: edgelabv1.EventType_EVENT_TYPE_VIEWER_REQUEST, Function: "big", Version: v})
		}
		return &edgelabv1.Distribution{Id: "d", Behaviors: []*edgelabv1.Behavior{b}}
	}
	if err := cp.r.CheckDeliverable(d(refs[:2]...)); err != nil {
		t.Fatalf("1.4 MB state under a 2 MiB limit refused: %v", err)
	}
	err := cp.r.CheckDeliverable(d(refs...))
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("2.8 MB state under a 2 MiB limit: %v, want ResourceExhausted", err)
	}
	if msg := status.Convert(err).Message(); !strings.Contains(msg, fmt.Sprint(2<<20)) || !strings.Contains(msg, `"d"`) {
		t.Fatalf("error %q does not name the distribution and the limit", msg)
	}
}

// chunkRecorder records what sendUpdate sends.
type chunkRecorder struct{ msgs []*edgelabv1.StreamResponse }

func (c *chunkRecorder) Send(m *edgelabv1.StreamResponse) error {
	c.msgs = append(c.msgs, m)
	return nil
}

func TestSendUpdateBoundsEveryMessage(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 300_000)
	snap := &edgelabv1.Snapshot{Revision: 9, Functions: []*edgelabv1.FunctionVersion{
		{Name: "a", Version: 1, Files: []*edgelabv1.SourceFile{{Name: "a.go", Content: body}}}}}
	msg := &edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Snapshot{Snapshot: snap}}
	for _, limit := range []int{MinNodeMessageBytes, 100_000, proto.Size(msg)} {
		var rec chunkRecorder
		if err := sendUpdate(&rec, msg, 9, limit); err != nil {
			t.Fatal(err)
		}
		var data []byte
		for i, m := range rec.msgs {
			if size := proto.Size(m); size > limit {
				t.Fatalf("limit %d: message %d is %d bytes", limit, i, size)
			}
			if c := m.GetChunk(); c != nil {
				if c.Revision != 9 || c.Offset != int64(len(data)) || c.Last != (i == len(rec.msgs)-1) {
					t.Fatalf("limit %d: chunk %d = rev %d offset %d last %v", limit, i, c.Revision, c.Offset, c.Last)
				}
				data = append(data, c.Data...)
			}
		}
		if limit == proto.Size(msg) {
			if len(rec.msgs) != 1 || rec.msgs[0] != msg {
				t.Fatalf("a message that fits went out as %d messages", len(rec.msgs))
			}
			continue
		}
		got := &edgelabv1.StreamResponse{}
		if err := proto.Unmarshal(data, got); err != nil || !proto.Equal(got, msg) {
			t.Fatalf("limit %d: chunks do not rebuild the update (err %v)", limit, err)
		}
	}
}

func TestCoalesceKeepsLastChangePerObject(t *testing.T) {
	put := func(name string, v int64) *edgelabv1.Change {
		return &edgelabv1.Change{Change: &edgelabv1.Change_PutFunction{PutFunction: &edgelabv1.FunctionVersion{Name: name, Version: v}}}
	}
	del := func(name string, v int64) *edgelabv1.Change {
		return &edgelabv1.Change{Change: &edgelabv1.Change_DeleteFunction{DeleteFunction: &edgelabv1.FunctionRef{Name: name, Version: v}}}
	}
	putD := &edgelabv1.Change{Change: &edgelabv1.Change_PutDistribution{PutDistribution: &edgelabv1.Distribution{Id: "d"}}}
	delD := &edgelabv1.Change{Change: &edgelabv1.Change_DeleteDistribution{DeleteDistribution: "d"}}
	inv1 := &edgelabv1.Change{Change: &edgelabv1.Change_Invalidation{Invalidation: &edgelabv1.Invalidation{Id: "i1"}}}
	inv2 := &edgelabv1.Change{Change: &edgelabv1.Change_Invalidation{Invalidation: &edgelabv1.Invalidation{Id: "i2"}}}
	got := coalesce([]*edgelabv1.Delta{
		{Revision: 5, PrevRevision: 3, Changes: []*edgelabv1.Change{put("big", 1), put("keep", 1), putD, inv1}},
		{Revision: 7, PrevRevision: 5},
		{Revision: 9, PrevRevision: 7, Changes: []*edgelabv1.Change{del("big", 1), delD, inv2}, ServerId: "cp"},
	})
	want := &edgelabv1.Delta{Revision: 9, PrevRevision: 3, ServerId: "cp", Changes: []*edgelabv1.Change{del("big", 1), put("keep", 1), delD, inv1, inv2}}
	if !proto.Equal(got, want) {
		t.Fatalf("coalesced\n%v\nwant\n%v", got, want)
	}
}

// deltasSent reads the replica's count of deltas sent.
func deltasSent(t *testing.T, cp *cpReplica) float64 {
	t.Helper()
	m := &dto.Metric{}
	if err := cp.r.metrics.deltas.Write(m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
