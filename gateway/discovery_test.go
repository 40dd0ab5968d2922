package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"

	"google.golang.org/grpc"

	"github.com/edgelab/edgelab/gateway"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/topology"
)

// fakeLister answers ListNodes from a settable list or error.
type fakeLister struct {
	mu    sync.Mutex
	nodes []*edgelabv1.Node
	err   error
	calls int
}

func (f *fakeLister) set(nodes []*edgelabv1.Node, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nodes, f.err = nodes, err
}

func (f *fakeLister) ListNodes(context.Context, *edgelabv1.ListNodesRequest, ...grpc.CallOption) (*edgelabv1.ListNodesResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return &edgelabv1.ListNodesResponse{Nodes: f.nodes}, nil
}

func TestControlPlaneSource(t *testing.T) {
	down := &fakeLister{err: errors.New("unavailable")}
	up := &fakeLister{nodes: []*edgelabv1.Node{
		{Id: "n1", Region: "us-east-1", Pop: "IAD", HttpUrl: "http://n1:8080"},
		{Id: "n2", Region: "eu-west-1", HttpUrl: ""}, // no HTTP URL: skipped
		{Id: "", Region: "eu-west-1", HttpUrl: "http://x"},
	}}
	tests := []struct {
		name     string
		replicas []gateway.NodeLister
		wantIDs  []string
		wantErr  bool
	}{
		{name: "first replica down, second answers", replicas: []gateway.NodeLister{down, up}, wantIDs: []string{"n1"}},
		{name: "all down", replicas: []gateway.NodeLister{down, down}, wantErr: true},
		{name: "none configured", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := (&gateway.ControlPlaneSource{Replicas: tc.replicas}).ListEdges(context.Background())
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if len(got) != len(tc.wantIDs) {
				t.Fatalf("edges = %+v, want ids %v", got, tc.wantIDs)
			}
			for i, id := range tc.wantIDs {
				if got[i].ID != id {
					t.Fatalf("edge %d = %q, want %q", i, got[i].ID, id)
				}
			}
		})
	}
}

func TestRunDiscoveryKeepsEdgesWhenControlPlaneIsAway(t *testing.T) {
	a := newFakeEdge(t, "use1-a", nil)
	b := newFakeEdge(t, "euw1-a", nil)
	static := newFakeEdge(t, "static", nil)
	gw, base := startGateway(t, gateway.Config{})
	cp := &fakeLister{nodes: []*edgelabv1.Node{{Id: "use1-a", Region: "us-east-1", HttpUrl: a.url()}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		gw.RunDiscovery(ctx, &gateway.ControlPlaneSource{Replicas: []gateway.NodeLister{cp}},
			[]gateway.Edge{static.edge("ap-northeast-1")}, 10*time.Millisecond)
	}()
	t.Cleanup(func() { cancel(); <-done })

	ids := func() map[string]bool {
		m := map[string]bool{}
		for _, e := range gw.Edges() {
			m[e.ID] = true
		}
		return m
	}
	poll.True(t, 5*time.Second, "discovered + static edges", func() bool {
		m := ids()
		return len(m) == 2 && m["use1-a"] && m["static"]
	})
	resp, e := get(t, newClient(t), base+"/", map[string]string{"X-Viewer-Region": "us-east-1"})
	if resp.StatusCode != http.StatusOK || e.Edge != "use1-a" {
		t.Fatalf("served by %q (%d), want use1-a", e.Edge, resp.StatusCode)
	}

	cp.set([]*edgelabv1.Node{
		{Id: "use1-a", Region: "us-east-1", HttpUrl: a.url()},
		{Id: "euw1-a", Region: "eu-west-1", HttpUrl: b.url()},
	}, nil)
	poll.True(t, 5*time.Second, "new node discovered", func() bool { return ids()["euw1-a"] })

	// The control plane goes away: the edge list stays.
	cp.set(nil, errors.New("unavailable"))
	cp.mu.Lock()
	seen := cp.calls
	cp.mu.Unlock()
	poll.True(t, 5*time.Second, "failed polls", func() bool { cp.mu.Lock(); defer cp.mu.Unlock(); return cp.calls > seen+2 })
	if m := ids(); len(m) != 3 {
		t.Fatalf("edges after control-plane failure = %v, want 3 kept", m)
	}

	// A list SetEdges rejects (bad URL) leaves the current one in force.
	cp.set([]*edgelabv1.Node{{Id: "x", Region: "r", HttpUrl: "not a url"}}, nil)
	cp.mu.Lock()
	seen = cp.calls
	cp.mu.Unlock()
	poll.True(t, 5*time.Second, "polls", func() bool { cp.mu.Lock(); defer cp.mu.Unlock(); return cp.calls > seen+2 })
	if m := ids(); len(m) != 3 || m["x"] {
		t.Fatalf("edges after bad discovery = %v", m)
	}
}

func TestWithDefaultTopology(t *testing.T) {
	use := newFakeEdge(t, "use1-a", nil)
	euw := newFakeEdge(t, "euw1-a", nil)
	apne := newFakeEdge(t, "apne1-a", nil)
	_, base := startGateway(t, gateway.Config{
		Topology:      topology.Default(),
		DefaultRegion: "eu-west-1",
		Edges:         []gateway.Edge{use.edge("us-east-1"), euw.edge("eu-west-1"), apne.edge("ap-northeast-1")},
	})
	c := newClient(t)
	tests := []struct {
		region, want string
	}{
		{"sa-east-1", "use1-a"},       // 60ms vs 90ms vs 128ms
		{"eu-central-1", "euw1-a"},    // 13ms
		{"ap-southeast-2", "apne1-a"}, // 55ms
		{"us-west-2", "use1-a"},       // 33ms beats ap-northeast-1 50ms
		{"mars-north-1", "euw1-a"},    // unknown region: default
	}
	for _, tc := range tests {
		t.Run(tc.region, func(t *testing.T) {
			resp, e := get(t, c, base+"/", map[string]string{"X-Viewer-Region": tc.region})
			if resp.StatusCode != http.StatusOK || e.Edge != tc.want {
				t.Fatalf("viewer %s served by %q (%d), want %q", tc.region, e.Edge, resp.StatusCode, tc.want)
			}
		})
	}
}
