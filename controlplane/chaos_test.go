package controlplane

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/origin"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/store"
	"github.com/edgelab/edgelab/topology"
)

// startChaos runs a Chaos service on the lab's etcd until the test ends.
func startChaos(t *testing.T, cli *clientv3.Client, keys store.Keys) *Chaos {
	t.Helper()
	c, err := NewChaos(ChaosConfig{KV: cli, Watcher: cli, Lease: cli, Keys: keys, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("chaos Run: %v", err)
		}
	})
	if err := c.Faults().WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

func inject(t *testing.T, c *Chaos, f *edgelabv1.Fault) *edgelabv1.Fault {
	t.Helper()
	resp, err := c.Inject(context.Background(), &edgelabv1.InjectRequest{Fault: f})
	if err != nil {
		t.Fatalf("inject %s %s: %v", f.Kind, f.Target, err)
	}
	return resp.Fault
}

func listIDs(t *testing.T, c *Chaos) []string {
	t.Helper()
	resp, err := c.ListFaults(context.Background(), &edgelabv1.ListFaultsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range resp.Faults {
		ids = append(ids, f.Id)
	}
	return ids
}

func TestChaosInjectRejectsBadFaults(t *testing.T) {
	l := newLab(t, 0, nil, "instant")
	c := startChaos(t, l.cli, l.keys)
	d := durationpb.New
	tests := []struct {
		name string
		f    *edgelabv1.Fault
	}{
		{"nil fault", nil},
		{"unknown kind", &edgelabv1.Fault{Kind: "explode", Target: "node:a"}},
		{"empty kind", &edgelabv1.Fault{Target: "node:a"}},
		{"no target", &edgelabv1.Fault{Kind: "stop"}},
		{"target without kind", &edgelabv1.Fault{Kind: "stop", Target: "a"}},
		{"unknown target kind", &edgelabv1.Fault{Kind: "stop", Target: "planet:earth"}},
		{"empty target name", &edgelabv1.Fault{Kind: "stop", Target: "node:"}},
		{"target with slash", &edgelabv1.Fault{Kind: "stop", Target: "node:../../etc"}},
		{"target with newline", &edgelabv1.Fault{Kind: "stop", Target: "node:a\nb"}},
		{"target too long", &edgelabv1.Fault{Kind: "stop", Target: "node:" + string(make([]byte, 200))}},
		{"partition an origin", &edgelabv1.Fault{Kind: "partition", Target: "origin:web"}},
		{"origin fault on a node", &edgelabv1.Fault{Kind: "origin-outage", Target: "node:a"}},
		{"bad direction", &edgelabv1.Fault{Kind: "partition", Target: "region:us-east-1", Direction: "sideways"}},
		{"direction on a stop", &edgelabv1.Fault{Kind: "stop", Target: "node:a", Direction: "both"}},
		{"delay without latency", &edgelabv1.Fault{Kind: "replication-delay", Target: "region:us-east-1"}},
		{"negative latency", &edgelabv1.Fault{Kind: "replication-delay", Target: "region:us-east-1", Latency: d(-time.Second)}},
		{"huge latency", &edgelabv1.Fault{Kind: "replication-delay", Target: "region:us-east-1", Latency: d(time.Hour)}},
		{"latency on a stop", &edgelabv1.Fault{Kind: "stop", Target: "node:a", Latency: d(time.Second)}},
		{"rate above 1", &edgelabv1.Fault{Kind: "replication-drop", Target: "node:a", Rate: 1.5}},
		{"negative rate", &edgelabv1.Fault{Kind: "replication-drop", Target: "node:a", Rate: -0.1}},
		{"NaN rate", &edgelabv1.Fault{Kind: "replication-drop", Target: "node:a", Rate: math.NaN()}},
		{"rate on a partition", &edgelabv1.Fault{Kind: "partition", Target: "node:a", Rate: 0.5}},
		{"status out of range", &edgelabv1.Fault{Kind: "fetch-errors", Target: "function:f", Status: 700}},
		{"status on a stop", &edgelabv1.Fault{Kind: "stop", Target: "node:a", Status: 500}},
		{"negative duration", &edgelabv1.Fault{Kind: "stop", Target: "node:a", Duration: d(-time.Second)}},
		{"duration too long", &edgelabv1.Fault{Kind: "stop", Target: "node:a", Duration: d(48 * time.Hour)}},
		{"invalid duration proto", &edgelabv1.Fault{Kind: "stop", Target: "node:a", Duration: &durationpb.Duration{Seconds: 1, Nanos: -5}}},
		{"bad id", &edgelabv1.Fault{Id: "Bad/ID", Kind: "stop", Target: "node:a"}},
		{"unknown origin", &edgelabv1.Fault{Kind: "origin-outage", Target: "origin:nowhere"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Inject(context.Background(), &edgelabv1.InjectRequest{Fault: tt.f})
			want := codes.InvalidArgument
			if tt.name == "unknown origin" {
				want = codes.FailedPrecondition
			}
			if status.Code(err) != want {
				t.Fatalf("got %v, want %v", err, want)
			}
		})
	}
	if ids := listIDs(t, c); len(ids) != 0 {
		t.Fatalf("rejected faults were stored: %v", ids)
	}
}

func TestChaosInjectListHealExpire(t *testing.T) {
	l := newLab(t, 0, nil, "instant")
	c := startChaos(t, l.cli, l.keys)
	ctx := context.Background()

	part := inject(t, c, &edgelabv1.Fault{Kind: "partition", Target: "region:ap-northeast-1"})
	if part.Id == "" || part.Direction != "both" || part.Created == nil || part.Expires != nil {
		t.Fatalf("stored partition = %v, want an id, direction both, created, no expiry", part)
	}
	short := inject(t, c, &edgelabv1.Fault{Kind: "replication-delay", Target: "node:n1", Latency: durationpb.New(time.Second), Duration: durationpb.New(time.Second)})
	if short.Expires == nil || !short.Expires.AsTime().After(short.Created.AsTime()) {
		t.Fatalf("timed fault has no expiry: %v", short)
	}
	named := inject(t, c, &edgelabv1.Fault{Id: "my-stop", Kind: "stop", Target: "node:n2"})
	if _, err := c.Inject(ctx, &edgelabv1.InjectRequest{Fault: &edgelabv1.Fault{Id: "my-stop", Kind: "stop", Target: "node:n3"}}); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("duplicate id: %v, want AlreadyExists", err)
	}
	if got := len(listIDs(t, c)); got != 3 {
		t.Fatalf("listed %d faults, want 3", got)
	}
	// The replicator's view of node n1 in us-east-1: the delay.
	nf, _ := c.Faults().ForNode("n1", "us-east-1")
	if nf.ExtraDelay != time.Second || nf.CutStream {
		t.Fatalf("ForNode(n1) = %+v, want 1s extra delay only", nf)
	}
	nf, _ = c.Faults().ForNode("n9", "ap-northeast-1")
	if !nf.CutStream {
		t.Fatalf("ForNode(ap-northeast-1 node) = %+v, want a cut stream", nf)
	}

	// The timed fault's lease expires by itself.
	poll.True(t, 15*time.Second, "the 1s fault to expire", func() bool {
		resp, err := l.cli.Get(ctx, l.keys.Fault(short.Id))
		return err == nil && len(resp.Kvs) == 0 && len(listIDs(t, c)) == 2 && len(c.Faults().Active("replication-delay", "")) == 0
	})

	if _, err := c.Heal(ctx, &edgelabv1.HealRequest{Id: named.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Heal(ctx, &edgelabv1.HealRequest{Id: named.Id}); status.Code(err) != codes.NotFound {
		t.Fatalf("second heal: %v, want NotFound", err)
	}
	for _, bad := range []*edgelabv1.HealRequest{{}, {Id: "x", All: true}, {Id: "../x"}} {
		if _, err := c.Heal(ctx, bad); status.Code(err) != codes.InvalidArgument {
			t.Errorf("Heal(%v): %v, want InvalidArgument", bad, err)
		}
	}
	inject(t, c, &edgelabv1.Fault{Kind: "health-fail", Target: "node:n4"})
	resp, err := c.Heal(ctx, &edgelabv1.HealRequest{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Healed) != 2 {
		t.Fatalf("heal --all healed %v, want 2 faults", resp.Healed)
	}
	if ids := listIDs(t, c); len(ids) != 0 {
		t.Fatalf("after heal --all: %v", ids)
	}
	if got := c.Faults().All(); len(got) != 0 {
		t.Fatalf("fault set after heal --all: %v", got)
	}
}

func TestChaosStartHealsStop(t *testing.T) {
	l := newLab(t, 0, nil, "instant")
	c := startChaos(t, l.cli, l.keys)
	inject(t, c, &edgelabv1.Fault{Kind: "kill", Target: "node:a"})
	inject(t, c, &edgelabv1.Fault{Kind: "pause", Target: "node:b"})
	inject(t, c, &edgelabv1.Fault{Kind: "start", Target: "node:a"})
	if got := c.Faults().Active("kill", ""); len(got) != 0 {
		t.Fatalf("kill still active after start: %v", got)
	}
	if got := c.Faults().Active("pause", "node:b"); len(got) != 1 {
		t.Fatalf("pause on another node was healed: %v", got)
	}
}

func TestFaultSetHidesExpired(t *testing.T) {
	l := newLab(t, 0, nil, "instant")
	now := time.Now()
	fs, err := NewFaultSet(FaultSetConfig{KV: l.cli, Watcher: l.cli, Keys: l.keys, Logger: quietLogger(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	// Stored without a lease but with a past expiry: hidden on read.
	rev := l.put(t, l.keys.Fault("old"), &edgelabv1.Fault{Id: "old", Kind: "stop", Target: "node:a", Expires: timestamppb.New(now.Add(-time.Second))})
	l.put(t, l.keys.Fault("junk"), &edgelabv1.Fault{})
	if _, err := l.cli.Put(context.Background(), l.keys.Fault("garbage"), "\xff\xff not a proto"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fs.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if err := fs.WaitRevision(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if got := fs.Active("stop", ""); len(got) != 0 {
		t.Fatalf("expired fault visible: %v", got)
	}
}

func TestChaosForwardsOriginFaults(t *testing.T) {
	l := newLab(t, 0, nil, "instant")
	org, err := origin.New(origin.Config{ID: "web", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	octx, ocancel := context.WithCancel(context.Background())
	odone := make(chan error, 1)
	go func() { odone <- org.Run(octx) }()
	t.Cleanup(func() { ocancel(); <-odone; _ = org.Close() })
	l.put(t, l.keys.Distribution("d"), &edgelabv1.Distribution{Id: "d", Origins: []*edgelabv1.Origin{{Id: "web", Url: org.URL()}}})
	c := startChaos(t, l.cli, l.keys)

	get := func() int {
		resp, err := http.Get(org.URL() + "/")
		if err != nil {
			return -1
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get(); st != http.StatusOK {
		t.Fatalf("healthy origin answered %d", st)
	}
	f := inject(t, c, &edgelabv1.Fault{Kind: "origin-errors", Target: "origin:web", Rate: 1, Status: 502})
	if st := get(); st != http.StatusBadGateway {
		t.Fatalf("after origin-errors: %d, want 502", st)
	}
	out := inject(t, c, &edgelabv1.Fault{Kind: "origin-outage", Target: "origin:web"})
	if st := get(); st != -1 {
		t.Fatalf("after origin-outage: %d, want a dropped connection", st)
	}
	if _, err := c.Heal(context.Background(), &edgelabv1.HealRequest{Id: out.Id}); err != nil {
		t.Fatal(err)
	}
	if st := get(); st != http.StatusBadGateway {
		t.Fatalf("outage healed, errors left: %d, want 502", st)
	}
	if _, err := c.Heal(context.Background(), &edgelabv1.HealRequest{Id: f.Id}); err != nil {
		t.Fatal(err)
	}
	if st := get(); st != http.StatusOK {
		t.Fatalf("after heal: %d, want 200", st)
	}
	if got := org.Faults(); len(got) != 0 {
		t.Fatalf("origin still has faults: %v", got)
	}
}

// startFaultyReplica is startReplica with a fault source.
func startFaultyReplica(t *testing.T, l *lab, id string, faults ReplicationFaults) *cpReplica {
	t.Helper()
	c := serveReplicator(t, ReplicatorConfig{
		KV: l.cli, Watcher: l.cli, Lease: l.cli, Keys: l.keys, ServerID: id, Profile: "instant",
		Logger: quietLogger(), NodeTTL: 2 * time.Second, PingInterval: time.Second, Faults: faults,
	})
	l.cps = append(l.cps, c)
	return c
}

// publish stores version v of auth and points distribution d0 at it.
func publish(t *testing.T, l *lab, v int64) int64 {
	l.putVersion(t, "auth", v, fmt.Sprintf("v%d", v))
	return l.putDist(t, "d0", fmt.Sprintf("auth:%d", v))
}

// checkAppliedOnce fails when a node applied some revision twice or went back.
func checkAppliedOnce(t *testing.T, nodes []*node) {
	t.Helper()
	checkHistories(t, nodes)
	for _, n := range nodes {
		n.rec.mu.Lock()
		seen := map[int64]bool{}
		for _, s := range n.rec.applied {
			if seen[s.Revision] {
				t.Errorf("node %s applied revision %d twice", n.id, s.Revision)
			}
			seen[s.Revision] = true
		}
		n.rec.mu.Unlock()
	}
}

func TestReplicationFaults(t *testing.T) {
	const cut = "ap-northeast-1"
	tests := []struct {
		name  string
		fault *edgelabv1.Fault
	}{
		{"partition both", &edgelabv1.Fault{Kind: "partition", Target: "region:" + cut, Direction: "both"}},
		{"partition to-node", &edgelabv1.Fault{Kind: "partition", Target: "region:" + cut, Direction: "to-node"}},
		{"partition one node", &edgelabv1.Fault{Kind: "partition", Target: "node:n-" + cut}},
		{"drop every update", &edgelabv1.Fault{Kind: "replication-drop", Target: "region:" + cut}},
		{"delay beyond the test", &edgelabv1.Fault{Kind: "replication-delay", Target: "region:" + cut, Latency: durationpb.New(9 * time.Minute)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t, 0, topology.Default(), "instant")
			c := startChaos(t, l.cli, l.keys)
			startFaultyReplica(t, l, "cp-0", c.Faults())
			startFaultyReplica(t, l, "cp-1", c.Faults())
			rev := publish(t, l, 1)
			var nodes, others []*node
			var isolated *node
			for _, region := range []string{"us-east-1", "eu-west-1", cut} {
				n := startNode(t, "n-"+region, region, l.addrs(), t.TempDir(), nil)
				nodes = append(nodes, n)
				if region == cut {
					isolated = n
				} else {
					others = append(others, n)
				}
			}
			waitConverged(t, nodes, rev)
			old := describe(isolated.rec.last())

			f := inject(t, c, tt.fault)
			rev = publish(t, l, 2)
			waitConverged(t, others, rev)
			if got := isolated.c.Revision(); got >= rev {
				t.Fatalf("faulted node reached revision %d while %s was active", got, tt.name)
			}
			if got := describe(isolated.rec.last()); got != old {
				t.Fatalf("faulted node state %q, want the old %q", got, old)
			}

			if _, err := c.Heal(context.Background(), &edgelabv1.HealRequest{Id: f.Id}); err != nil {
				t.Fatal(err)
			}
			rev3 := publish(t, l, 3)
			waitConverged(t, nodes, rev3)
			want := describe(others[0].rec.last())
			if got := describe(isolated.rec.last()); got != want {
				t.Fatalf("after heal node state %q, want %q", got, want)
			}
			checkAppliedOnce(t, nodes)
		})
	}
}

func TestReplicationDuplicateNeverAppliesTwice(t *testing.T) {
	l := newLab(t, 0, topology.Default(), "instant")
	c := startChaos(t, l.cli, l.keys)
	startFaultyReplica(t, l, "cp-0", c.Faults())
	n := startNode(t, "n1", "eu-west-1", l.addrs(), t.TempDir(), nil)
	rev := publish(t, l, 1)
	waitConverged(t, []*node{n}, rev)
	inject(t, c, &edgelabv1.Fault{Kind: "replication-duplicate", Target: "node:n1", Rate: 1})
	for v := int64(2); v <= 6; v++ {
		rev = publish(t, l, v)
	}
	waitConverged(t, []*node{n}, rev)
	poll.True(t, 10*time.Second, "duplicates to arrive", func() bool { return n.c.Duplicates() > 0 })
	checkAppliedOnce(t, []*node{n})
	if s := n.c.Snapshots(); s != 1 {
		t.Errorf("duplicates caused resyncs: %d snapshots, want 1", s)
	}
}
