package controlplane

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/edgelab/edgelab/edgenode/replica"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/topology"
)

func TestNodeSideFaults(t *testing.T) {
	all := []*edgelabv1.Fault{
		{Id: "a", Kind: KindHealthFail, Target: "node:n1"},
		{Id: "b", Kind: KindHealthFail, Target: "node:n2"},
		{Id: "c", Kind: KindHealthFail, Target: "region:eu-west-1"},
		{Id: "d", Kind: KindFetchErrors, Target: "function:auth"},
		{Id: "e", Kind: KindFetchLatency, Target: "function:img"},
		{Id: "f", Kind: KindPartition, Target: "node:n1"},
		{Id: "g", Kind: KindOriginErrors, Target: "origin:o1"},
		{Id: "h", Kind: KindReplicationDelay, Target: "region:eu-west-1"},
		// Hostile or malformed entries never match.
		{Id: "i", Kind: KindHealthFail, Target: "n1"},
		{Id: "j", Kind: KindHealthFail, Target: "region:"},
		{Id: "k", Kind: KindFetchErrors, Target: "function:"},
		{Id: "l", Kind: KindFetchErrors, Target: "node:n1"},
		{Id: "m", Kind: KindHealthFail, Target: "function:n1"},
		{Id: "n", Kind: "", Target: "node:n1"},
		nil,
		{Id: "o", Kind: KindTierLatency, Target: "node:n2"},
		{Id: "p", Kind: KindTierPartition, Target: "region:eu-west-1"},
		{Id: "q", Kind: KindTierPartition, Target: "function:n1"},
	}
	tests := []struct {
		node, region string
		want         []string
	}{
		{"n1", "eu-west-1", []string{"a", "c", "d", "e", "p"}},
		{"n2", "us-east-1", []string{"b", "d", "e", "o"}},
		{"n3", "ap-northeast-1", []string{"d", "e"}},
		{"n3", "", []string{"d", "e"}},
		{"", "", []string{"d", "e"}},
	}
	for _, tt := range tests {
		t.Run(tt.node+"@"+tt.region, func(t *testing.T) {
			var got []string
			for _, f := range NodeSideFaults(all, tt.node, tt.region) {
				got = append(got, f.GetId())
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("NodeSideFaults = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNodeFaultTrackerSendsOnceThenOnChange(t *testing.T) {
	src := &fakeLister{}
	tr := newNodeFaultTracker(src, "n1", "eu-west-1")
	first := tr.next()
	if first == nil || first.GetFaults() == nil || len(first.GetFaults().GetFaults()) != 0 {
		t.Fatalf("first update = %v, want an empty FaultUpdate", first)
	}
	if u := tr.next(); u != nil {
		t.Fatalf("second update without a change = %v, want none", u)
	}
	// A change that does not concern the node sends nothing.
	src.set(&edgelabv1.Fault{Id: "x", Kind: KindHealthFail, Target: "node:n2"})
	tr.changed()
	if u := tr.next(); u != nil {
		t.Fatalf("update for another node's fault = %v, want none", u)
	}
	src.set(&edgelabv1.Fault{Id: "x", Kind: KindHealthFail, Target: "node:n2"}, &edgelabv1.Fault{Id: "y", Kind: KindHealthFail, Target: "node:n1"})
	tr.changed()
	if u := tr.next(); u == nil || len(u.GetFaults().GetFaults()) != 1 || u.GetFaults().GetFaults()[0].GetId() != "y" {
		t.Fatalf("update = %v, want [y]", u)
	}
	src.set()
	tr.changed()
	if u := tr.next(); u == nil || len(u.GetFaults().GetFaults()) != 0 {
		t.Fatalf("update after heal = %v, want an empty list", u)
	}

	// A fault source without a lister: one empty update, then nothing.
	tr = newNodeFaultTracker(noFaults{}, "n1", "r")
	if u := tr.next(); u == nil || len(u.GetFaults().GetFaults()) != 0 {
		t.Fatalf("no lister: first update = %v, want empty", u)
	}
	tr.changed()
	if u := tr.next(); u != nil {
		t.Fatalf("no lister: update = %v, want none", u)
	}
}

type fakeLister struct {
	noFaults
	faults []*edgelabv1.Fault
}

func (f *fakeLister) set(faults ...*edgelabv1.Fault) { f.faults = faults }
func (f *fakeLister) All() []*edgelabv1.Fault        { return f.faults }

// faultRecorder is a recorder that also records FaultUpdates.
type faultRecorder struct {
	recorder
	fmu     sync.Mutex
	updates [][]string // fault ids of every ApplyFaults call
}

func (r *faultRecorder) ApplyFaults(faults []*edgelabv1.Fault) {
	ids := []string{}
	for _, f := range faults {
		ids = append(ids, f.GetId())
	}
	r.fmu.Lock()
	defer r.fmu.Unlock()
	r.updates = append(r.updates, ids)
}

// current is the ids of the last update, and how many updates came.
func (r *faultRecorder) current() ([]string, int) {
	r.fmu.Lock()
	defer r.fmu.Unlock()
	if len(r.updates) == 0 {
		return nil, 0
	}
	return r.updates[len(r.updates)-1], len(r.updates)
}

func waitFaults(t *testing.T, r *faultRecorder, who string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	poll.True(t, 10*time.Second, who+" faults = "+strings.Join(want, ","), func() bool {
		got, n := r.current()
		return n > 0 && slices.Equal(got, want)
	})
}

func TestReplicatorForwardsNodeSideFaults(t *testing.T) {
	l := newLab(t, 0, topology.Default(), "instant")
	c := startChaos(t, l.cli, l.keys)
	cp := startFaultyReplica(t, l, "cp-0", c.Faults())
	rev := publish(t, l, 1)
	r1, r2 := &faultRecorder{}, &faultRecorder{}
	n1 := startFaultNode(t, "n1", "eu-west-1", l.addrs(), r1)
	n2 := startFaultNode(t, "n2", "us-east-1", l.addrs(), r2)
	waitConverged(t, []*node{n1, n2}, rev)
	// Once after Hello, empty.
	waitFaults(t, r1, "n1")
	waitFaults(t, r2, "n2")

	hf := inject(t, c, &edgelabv1.Fault{Id: "hf", Kind: KindHealthFail, Target: "node:n1"})
	waitFaults(t, r1, "n1", "hf")
	fe := inject(t, c, &edgelabv1.Fault{Id: "fe", Kind: KindFetchErrors, Target: "function:auth", Rate: 0.5, Status: 502})
	waitFaults(t, r1, "n1", "fe", "hf")
	waitFaults(t, r2, "n2", "fe")
	if got := n1.c.Faults(); len(got) != 2 || got[0].GetRate() != 0.5 || got[0].GetStatus() != 502 {
		t.Fatalf("n1 client faults = %v, want fe (rate 0.5, status 502) and hf", got)
	}
	_, before := r2.current()
	// A fault nodes do not act on sends nothing.
	inject(t, c, &edgelabv1.Fault{Id: "slow", Kind: KindReplicationDelay, Target: "region:us-east-1", Latency: durationpb.New(time.Millisecond)})
	inject(t, c, &edgelabv1.Fault{Id: "rf", Kind: KindHealthFail, Target: "region:us-east-1"})
	waitFaults(t, r2, "n2", "fe", "rf")
	if _, after := r2.current(); after != before+1 {
		t.Errorf("n2 got %d updates for one node-side change, want 1", after-before)
	}
	if got, _ := r1.current(); !slices.Equal(got, []string{"fe", "hf"}) {
		t.Errorf("n1 faults = %v after a region fault elsewhere, want [fe hf]", got)
	}

	// Partition to-node holds fault updates like everything else.
	inject(t, c, &edgelabv1.Fault{Id: "cut", Kind: KindPartition, Target: "node:n1", Direction: DirectionToNode})
	if _, err := c.Heal(context.Background(), &edgelabv1.HealRequest{Id: hf.Id}); err != nil {
		t.Fatal(err)
	}
	// Healing fe reaches n2 while the held stream to n1 learns nothing.
	if _, err := c.Heal(context.Background(), &edgelabv1.HealRequest{Id: fe.Id}); err != nil {
		t.Fatal(err)
	}
	waitFaults(t, r2, "n2", "rf")
	if got, _ := r1.current(); !slices.Equal(got, []string{"fe", "hf"}) {
		t.Fatalf("partitioned n1 faults = %v, want the old [fe hf]", got)
	}
	if _, err := c.Heal(context.Background(), &edgelabv1.HealRequest{Id: "cut"}); err != nil {
		t.Fatal(err)
	}
	waitFaults(t, r1, "n1")

	// A reconnecting node gets the current list after Hello.
	inject(t, c, &edgelabv1.Fault{Id: "hf2", Kind: KindHealthFail, Target: "node:n1"})
	waitFaults(t, r1, "n1", "hf2")
	n1.stop()
	cp.stop()
	if _, err := c.Heal(context.Background(), &edgelabv1.HealRequest{Id: "hf2"}); err != nil {
		t.Fatal(err)
	}
	startFaultyReplica(t, l, "cp-1", c.Faults())
	r3 := &faultRecorder{}
	startFaultNode(t, "n1", "eu-west-1", []string{l.cps[len(l.cps)-1].addr}, r3)
	waitFaults(t, r3, "n1")
}

// startFaultNode is startNode with a fault-aware recorder as the Applier.
func startFaultNode(t *testing.T, id, region string, endpoints []string, rec *faultRecorder) *node {
	t.Helper()
	c, err := replica.New(replica.Config{DialOptions: plaintext(),
		NodeID: id, Region: region, PoP: "X", Endpoints: endpoints, Applier: rec,
		Logger: quietLogger(), BackoffInitial: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		HeartbeatInterval: 200 * time.Millisecond, DeadAfter: 3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{id: id, c: c, rec: &rec.recorder, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(n.done)
		if err := c.Run(ctx); err != nil {
			t.Errorf("node %s: %v", id, err)
		}
	}()
	t.Cleanup(n.stop)
	return n
}
