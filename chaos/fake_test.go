package chaos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/chaos/history"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// fakeNode is one edge of fakeLab.
type fakeNode struct {
	id, region string
	role       string // "rec": a regional edge cache
	live       bool
	applied    []history.Applied
	// regressed makes the node serve version 1 of every function (a bug the
	// monotonic invariant must catch).
	regressed bool
}

// fakeLab is an in-memory lab: writes apply to every live node at once, and
// its gateway (an httptest server) routes each viewer to a live node of its
// region, else any live node, answering with edgelab headers.
type fakeLab struct {
	mu       sync.Mutex
	rev      int64
	versions map[string]int64 // function -> latest version
	dist     *edgelabv1.Distribution
	distRev  int64
	nodes    []*fakeNode
	// etcdDown makes writes fail.
	etcdDown bool
	gw       *httptest.Server
}

func newFakeLab(t *testing.T) *fakeLab {
	l := &fakeLab{versions: map[string]int64{}, rev: 1}
	l.dist = &edgelabv1.Distribution{Id: "demo", Behaviors: []*edgelabv1.Behavior{{Path: "/api/*"}, {Path: "default"}}}
	l.distRev = 1
	for _, n := range []struct{ id, region string }{{"a1", "us-east-1"}, {"a2", "us-east-1"}, {"b1", "eu-west-1"}} {
		l.nodes = append(l.nodes, &fakeNode{id: n.id, region: n.region, live: true, applied: []history.Applied{{Revision: 1, Time: time.Now()}}})
	}
	l.gw = httptest.NewServer(http.HandlerFunc(l.serve))
	t.Cleanup(l.gw.Close)
	return l
}

func (l *fakeLab) serve(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	region := r.Header.Get(history.HeaderViewerRegion)
	var pick *fakeNode
	for _, n := range l.nodes {
		if n.live && (pick == nil || (n.region == region && pick.region != region)) {
			pick = n
		}
	}
	if pick == nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	w.Header().Set(history.HeaderNode, pick.id)
	w.Header().Set(history.HeaderGatewayEdge, pick.id)
	w.Header().Set(history.HeaderCache, "Miss from edgelab")
	var runs []string
	for _, b := range l.dist.Behaviors {
		if b.Path != "default" {
			continue
		}
		for _, a := range b.Functions {
			v := a.Version
			if pick.regressed {
				v = 1
			}
			runs = append(runs, fmt.Sprintf("viewer-request=%s:%d", a.Function, v))
		}
	}
	if len(runs) > 0 {
		w.Header().Set(history.HeaderFunctions, strings.Join(runs, ", "))
	}
	_, _ = w.Write([]byte("ok"))
}

// bump records a write at a new revision and applies it on every live node.
func (l *fakeLab) bump() int64 {
	l.rev++
	for _, n := range l.nodes {
		if n.live {
			n.applied = append(n.applied, history.Applied{Revision: l.rev, Time: time.Now()})
		}
	}
	return l.rev
}

func (l *fakeLab) Info(context.Context) (LabInfo, error) {
	return LabInfo{Kind: "allinone", Profile: "default", GatewayURL: l.gw.URL, ModelledDelay: 100 * time.Millisecond}, nil
}

func (l *fakeLab) Publish(_ context.Context, fn string, files []*edgelabv1.SourceFile) (int64, int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.etcdDown {
		return 0, 0, errors.New("etcdserver: request timed out")
	}
	if len(files) == 0 || !strings.Contains(string(files[0].Content), "package") {
		return 0, 0, errors.New("bad source")
	}
	l.versions[fn]++
	return l.versions[fn], l.bump(), nil
}

func (l *fakeLab) Distribution(_ context.Context, id string) (*edgelabv1.Distribution, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if id != l.dist.Id {
		return nil, errors.New("not found")
	}
	return proto.Clone(l.dist).(*edgelabv1.Distribution), nil
}

func (l *fakeLab) ApplyDistribution(_ context.Context, d *edgelabv1.Distribution) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.etcdDown {
		return 0, errors.New("etcdserver: request timed out")
	}
	l.dist = proto.Clone(d).(*edgelabv1.Distribution)
	l.distRev = l.bump()
	return l.distRev, nil
}

func (l *fakeLab) WaitDeployed(context.Context, string) error { return nil }

func (l *fakeLab) Nodes(context.Context) ([]history.NodeHistory, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []history.NodeHistory
	for _, n := range l.nodes {
		out = append(out, history.NodeHistory{Node: n.id, Region: n.region, Role: n.role, Live: n.live, Applied: append([]history.Applied(nil), n.applied...)})
	}
	return out, nil
}

func (l *fakeLab) FinalState(context.Context) (history.FinalState, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fs := history.FinalState{Revision: l.rev, Distributions: map[string]int64{l.dist.Id: l.distRev}}
	for fn, latest := range l.versions {
		for v := int64(1); v <= latest; v++ {
			fs.Versions = append(fs.Versions, history.FunctionVersion{Function: fn, Version: v})
		}
	}
	sort.Slice(fs.Versions, func(i, j int) bool { return fs.Versions[i].Version < fs.Versions[j].Version })
	for _, n := range l.nodes {
		last := n.applied[len(n.applied)-1].Revision
		fs.Nodes = append(fs.Nodes, history.NodeState{Node: n.id, Region: n.region, Live: n.live, AppliedRevision: last})
	}
	return fs, nil
}

func (l *fakeLab) Invalidate(context.Context, string, []string) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bump(), nil
}

func (l *fakeLab) Revisions(context.Context) (int64, map[string]int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	acked := map[string]int64{}
	for _, n := range l.nodes {
		if n.live {
			acked[n.id] = n.applied[len(n.applied)-1].Revision
		}
	}
	return l.rev, acked, nil
}

func (l *fakeLab) Observations(context.Context) (Observations, error) { return Observations{}, nil }

func (l *fakeLab) node(id string) *fakeNode {
	for _, n := range l.nodes {
		if "node:"+n.id == id {
			return n
		}
	}
	return nil
}

// fakeFaults acts on a fakeLab: kill/stop/pause take a node down (heal or
// start brings it back, catching up to the latest revision), pause on
// etcd:* makes writes fail, replication-duplicate on a node makes it regress.
type fakeFaults struct {
	lab    *fakeLab
	mu     sync.Mutex
	n      int
	active map[string]*edgelabv1.Fault
	log    []string
}

func newFakeFaults(l *fakeLab) *fakeFaults {
	return &fakeFaults{lab: l, active: map[string]*edgelabv1.Fault{}}
}

func (f *fakeFaults) Inject(_ context.Context, fault *edgelabv1.Fault) (*edgelabv1.Fault, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lab.mu.Lock()
	defer f.lab.mu.Unlock()
	got := proto.Clone(fault).(*edgelabv1.Fault)
	f.n++
	got.Id = fmt.Sprintf("f%d", f.n)
	f.log = append(f.log, "inject "+got.Kind+" "+got.Target)
	switch {
	case strings.HasPrefix(got.Target, "etcd:"):
		f.lab.etcdDown = true
	case got.Kind == "start":
		f.lab.restart(got.Target)
		return got, nil
	case got.Kind == "replication-duplicate":
		if n := f.lab.node(got.Target); n != nil {
			n.regressed = true
		}
	default:
		n := f.lab.node(got.Target)
		if n == nil {
			return nil, fmt.Errorf("unknown target %s", got.Target)
		}
		n.live = false
	}
	f.active[got.Id] = got
	return got, nil
}

func (l *fakeLab) restart(target string) {
	if n := l.node(target); n != nil && !n.live {
		n.live = true
		n.applied = append(n.applied, history.Applied{Revision: l.rev, Time: time.Now()})
	}
}

func (f *fakeFaults) Heal(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lab.mu.Lock()
	defer f.lab.mu.Unlock()
	got, ok := f.active[id]
	if !ok {
		return fmt.Errorf("no fault %s", id)
	}
	delete(f.active, id)
	f.log = append(f.log, "heal "+got.Kind+" "+got.Target)
	switch {
	case strings.HasPrefix(got.Target, "etcd:"):
		f.lab.etcdDown = false
	case got.Kind == "replication-duplicate":
		if n := f.lab.node(got.Target); n != nil {
			n.regressed = false
		}
	default:
		f.lab.restart(got.Target)
	}
	return nil
}
