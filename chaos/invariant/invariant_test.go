package invariant

import (
	"testing"
	"time"

	"github.com/edgelab/edgelab/chaos/history"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func req(startMs, endMs int, node string, status int, xcache string, fns ...history.FunctionRun) history.Request {
	return history.Request{Start: at(startMs), End: at(endMs), Method: "GET", Path: "/", ViewerRegion: "us-east-1",
		Node: node, Status: status, XCache: xcache, Functions: fns}
}

func fn(name string, v int64) history.FunctionRun {
	return history.FunctionRun{Event: "viewer-request", Function: name, Version: v}
}

func win(fromMs, toMs int) history.Window { return history.Window{From: at(fromMs), To: at(toMs)} }

func TestNoLostRequests(t *testing.T) {
	healthy := []history.Window{win(0, 1000), win(2000, 3000)}
	originFault := []history.Window{win(2500, 2600)}
	transport := req(100, 200, "", 0, "")
	transport.Err = "connection refused"
	tests := []struct {
		name string
		reqs []history.Request
		pass bool
	}{
		{"all ok", []history.Request{req(10, 20, "a", 200, "Hit from edgelab"), req(30, 40, "b", 404, "Miss from edgelab")}, true},
		{"transport error while healthy", []history.Request{transport}, false},
		{"502 origin error no fault", []history.Request{req(100, 200, "a", 502, "Error from edgelab")}, false},
		{"502 origin error during origin fault", []history.Request{req(2550, 2580, "a", 502, "Error from edgelab")}, true},
		{"503 function error is explained", []history.Request{req(100, 200, "a", 503, "LambdaExecutionError from edgelab")}, true},
		{"500 during no healthy path", []history.Request{req(1200, 1300, "", 503, "")}, true},
		{"failure straddling window edge not judged", []history.Request{req(900, 1100, "", 503, "")}, true},
		{"5xx without X-Cache while healthy", []history.Request{req(2100, 2200, "a", 500, "")}, false},
		{"no requests", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := NoLostRequests(tc.reqs, NoLostParams{Healthy: healthy, OriginFaults: originFault})
			if res.Passed != tc.pass {
				t.Fatalf("Passed = %v, want %v; details %v", res.Passed, tc.pass, res.Details)
			}
			if !res.Passed && len(res.Details) == 0 {
				t.Fatal("failure without details")
			}
		})
	}
}

func TestConverge(t *testing.T) {
	node := func(id, region string, live bool, revs ...int) history.NodeHistory {
		n := history.NodeHistory{Node: id, Region: region, Live: live}
		for i := 0; i+1 < len(revs); i += 2 {
			n.Applied = append(n.Applied, history.Applied{Revision: int64(revs[i]), Time: at(revs[i+1])})
		}
		return n
	}
	p := ConvergeParams{Target: 10, Since: at(1000), Bound: 2 * time.Second}
	tests := []struct {
		name    string
		nodes   []history.NodeHistory
		pass    bool
		regions map[string]time.Duration
	}{
		{"all converge", []history.NodeHistory{node("a", "us", true, 5, 0, 10, 1500), node("b", "eu", true, 12, 2500)}, true,
			map[string]time.Duration{"us": 500 * time.Millisecond, "eu": 1500 * time.Millisecond}},
		{"already there counts as zero", []history.NodeHistory{node("a", "us", true, 10, 500)}, true,
			map[string]time.Duration{"us": 0}},
		{"dead node ignored", []history.NodeHistory{node("a", "us", true, 10, 1100), node("b", "eu", false, 5, 0)}, true,
			map[string]time.Duration{"us": 100 * time.Millisecond}},
		{"live node never converged", []history.NodeHistory{node("a", "us", true, 10, 1100), node("b", "eu", true, 5, 0)}, false, nil},
		{"too slow", []history.NodeHistory{node("a", "us", true, 10, 3500)}, false, nil},
		{"no live nodes", []history.NodeHistory{node("a", "us", false)}, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, regions := Converge(tc.nodes, p)
			if res.Passed != tc.pass {
				t.Fatalf("Passed = %v, want %v; details %v", res.Passed, tc.pass, res.Details)
			}
			for _, rc := range regions {
				if want, ok := tc.regions[rc.Region]; ok && rc.Time != want {
					t.Errorf("region %s time %s, want %s", rc.Region, rc.Time, want)
				}
			}
		})
	}
}

func TestMonotonic(t *testing.T) {
	applied := func(revs ...int64) history.NodeHistory {
		n := history.NodeHistory{Node: "a"}
		for i, r := range revs {
			n.Applied = append(n.Applied, history.Applied{Revision: r, Time: at(i)})
		}
		return n
	}
	tests := []struct {
		name  string
		reqs  []history.Request
		nodes []history.NodeHistory
		pass  bool
	}{
		{"upgrade", []history.Request{req(0, 10, "a", 200, "", fn("f", 1)), req(20, 30, "a", 200, "", fn("f", 2)), req(40, 50, "a", 200, "", fn("f", 2))}, nil, true},
		{"downgrade after newer completed", []history.Request{req(0, 10, "a", 200, "", fn("f", 2)), req(20, 30, "a", 200, "", fn("f", 1))}, nil, false},
		{"overlapping requests race the switch", []history.Request{req(0, 100, "a", 200, "", fn("f", 2)), req(50, 60, "a", 200, "", fn("f", 1))}, nil, true},
		{"different nodes are independent", []history.Request{req(0, 10, "a", 200, "", fn("f", 2)), req(20, 30, "b", 200, "", fn("f", 1))}, nil, true},
		{"different functions are independent", []history.Request{req(0, 10, "a", 200, "", fn("f", 2)), req(20, 30, "a", 200, "", fn("g", 1))}, nil, true},
		{"node header missing uses gateway edge", []history.Request{
			{Start: at(0), End: at(10), GatewayEdge: "a", Status: 200, Functions: []history.FunctionRun{fn("f", 3)}},
			req(20, 30, "a", 200, "", fn("f", 1))}, nil, false},
		{"applied revisions increase", nil, []history.NodeHistory{applied(1, 2, 2, 5)}, true},
		{"applied revision goes back", nil, []history.NodeHistory{applied(1, 5, 3)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Monotonic(tc.reqs, tc.nodes)
			if res.Passed != tc.pass {
				t.Fatalf("Passed = %v, want %v; details %v", res.Passed, tc.pass, res.Details)
			}
		})
	}
}

func TestDurableAcks(t *testing.T) {
	good := history.FinalState{
		Revision:      20,
		Versions:      []history.FunctionVersion{{Function: "f", Version: 1}, {Function: "f", Version: 2}},
		Referenced:    []history.FunctionVersion{{Function: "f", Version: 2}},
		Distributions: map[string]int64{"demo": 15},
		Nodes: []history.NodeState{
			{Node: "a", Live: true, AppliedRevision: 20},
			{Node: "b", Live: true, AppliedRevision: 20, Versions: []history.FunctionVersion{{Function: "f", Version: 1}, {Function: "f", Version: 2}}, Distributions: map[string]int64{"demo": 15}},
			{Node: "dead", Live: false, AppliedRevision: 3},
		},
	}
	acks := []history.Ack{
		{Kind: history.AckPublish, Function: "f", Version: 2, Revision: 12},
		{Kind: history.AckApply, Distribution: "demo", Revision: 14},
	}
	mutate := func(f func(*history.FinalState)) history.FinalState {
		s := good
		s.Nodes = append([]history.NodeState(nil), good.Nodes...)
		s.Distributions = map[string]int64{"demo": 15}
		f(&s)
		return s
	}
	tests := []struct {
		name  string
		acks  []history.Ack
		final history.FinalState
		pass  bool
	}{
		{"all present", acks, good, true},
		{"version lost in etcd", acks, mutate(func(s *history.FinalState) { s.Versions = s.Versions[:1] }), false},
		{"distribution lost in etcd", acks, mutate(func(s *history.FinalState) { delete(s.Distributions, "demo") }), false},
		{"distribution rolled back in etcd", acks, mutate(func(s *history.FinalState) { s.Distributions["demo"] = 9 }), false},
		{"live node behind", acks, mutate(func(s *history.FinalState) { s.Nodes[0].AppliedRevision = 12 }), false},
		{"live node missing version", acks, mutate(func(s *history.FinalState) {
			s.Nodes[1].Versions = []history.FunctionVersion{{Function: "f", Version: 1}}
		}), false},
		{"live node need not hold unreferenced version", acks, mutate(func(s *history.FinalState) {
			s.Referenced = nil
			s.Nodes[1].Versions = []history.FunctionVersion{{Function: "f", Version: 1}}
		}), true},
		{"live node missing distribution", acks, mutate(func(s *history.FinalState) { s.Nodes[1].Distributions = map[string]int64{} }), false},
		{"unknown ack kind", []history.Ack{{Kind: "delete"}}, good, false},
		{"no acks", nil, good, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := DurableAcks(tc.acks, tc.final)
			if res.Passed != tc.pass {
				t.Fatalf("Passed = %v, want %v; details %v", res.Passed, tc.pass, res.Details)
			}
		})
	}
}

func TestMixedAndSingleVersion(t *testing.T) {
	reqs := []history.Request{
		req(0, 10, "a", 200, "", fn("f", 1)),
		req(100, 110, "b", 200, "", fn("f", 2)),
		req(200, 210, "a", 200, "", fn("f", 2)),
		req(300, 310, "b", 200, "", fn("f", 2)),
		req(305, 315, "b", 502, "", fn("f", 1)), // failed: ignored
	}
	if r := MixedVersions(reqs, "f", win(0, 150)); !r.Passed {
		t.Errorf("MixedVersions over mixed window failed: %v", r.Details)
	}
	if r := MixedVersions(reqs, "f", win(150, 400)); r.Passed {
		t.Error("MixedVersions over single-version window passed")
	}
	if r := SingleVersion(reqs, "f", at(150), 2); !r.Passed {
		t.Errorf("SingleVersion after switch failed: %v", r.Details)
	}
	if r := SingleVersion(reqs, "f", at(0), 0); r.Passed {
		t.Error("SingleVersion over mixed period passed")
	}
	if r := SingleVersion(reqs, "f", at(150), 3); r.Passed {
		t.Error("SingleVersion with wrong wanted version passed")
	}
	if r := SingleVersion(reqs, "g", at(0), 0); r.Passed {
		t.Error("SingleVersion with no data passed")
	}
}

func TestDetailsBounded(t *testing.T) {
	var reqs []history.Request
	for i := range 100 {
		r := req(i, i+1, "a", 0, "")
		r.Err = "reset"
		reqs = append(reqs, r)
	}
	res := NoLostRequests(reqs, NoLostParams{Healthy: []history.Window{win(0, 1000)}})
	if res.Violations != 100 || len(res.Details) != maxDetails {
		t.Fatalf("violations %d details %d", res.Violations, len(res.Details))
	}
}
