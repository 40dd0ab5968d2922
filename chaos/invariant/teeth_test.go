package invariant

import (
	"testing"
	"time"

	"github.com/edgelab/edgelab/chaos/history"
)

func applied(id string, revAtMs ...int) history.NodeHistory {
	n := history.NodeHistory{Node: id, Region: "us-east-1", Live: true}
	for i := 0; i+1 < len(revAtMs); i += 2 {
		n.Applied = append(n.Applied, history.Applied{Revision: int64(revAtMs[i]), Time: at(revAtMs[i+1])})
	}
	return n
}

func hit(startMs int, node, path string, fetchedMs int) history.Request {
	r := req(startMs, startMs+5, node, 200, "Hit from edgelab")
	r.Path, r.OriginTime = path, at(fetchedMs)
	return r
}

func TestFresh(t *testing.T) {
	inv := []history.Invalidation{{Distribution: "demo", Paths: []string{"/static/*"}, Revision: 10, Time: at(1000)}}
	nodes := []history.NodeHistory{applied("a", 5, 0, 10, 1200), applied("b", 5, 0)}
	tests := []struct {
		name string
		reqs []history.Request
		pass bool
	}{
		{"stale hit after the node applied", []history.Request{hit(1300, "a", "/static/app.css", 500)}, false},
		{"stale hit before the node applied", []history.Request{hit(1100, "a", "/static/app.css", 500)}, true},
		{"refetched after the invalidation", []history.Request{hit(1300, "a", "/static/app.css", 1250)}, true},
		{"path not covered", []history.Request{hit(1300, "a", "/objects/1", 500)}, true},
		{"node never applied it", []history.Request{hit(1300, "b", "/static/app.css", 500)}, true},
		{"a miss is always fresh", []history.Request{func() history.Request {
			r := hit(1300, "a", "/static/app.css", 500)
			r.XCache = "Miss from edgelab"
			return r
		}()}, true},
		{"one stale among fresh", []history.Request{hit(1300, "a", "/static/x.js", 1290), hit(1400, "a", "/static/y.js", 900)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Fresh(tc.reqs, inv, nodes)
			if res.Passed != tc.pass {
				t.Fatalf("Passed = %v, want %v; details %v", res.Passed, tc.pass, res.Details)
			}
		})
	}
	if res := Fresh([]history.Request{hit(1300, "a", "/static/app.css", 500)}, nil, nodes); !res.Passed {
		t.Fatalf("no invalidation, yet a violation: %v", res.Details)
	}
}

func TestAckImpliesDurable(t *testing.T) {
	withSessions := func(n history.NodeHistory, sinceRev ...int) history.NodeHistory {
		for i := 0; i+1 < len(sinceRev); i += 2 {
			n.Sessions = append(n.Sessions, history.Session{Since: at(sinceRev[i]), Revision: int64(sinceRev[i+1])})
		}
		return n
	}
	tests := []struct {
		name string
		node history.NodeHistory
		pass bool
	}{
		{"restart at the acked revision", withSessions(applied("a", 5, 100, 9, 200), 0, 0, 500, 9), true},
		{"restart ahead", withSessions(applied("a", 5, 100, 9, 200), 0, 0, 500, 12), true},
		{"restart behind the ack", withSessions(applied("a", 5, 100, 9, 200), 0, 0, 500, 5), false},
		{"restart with nothing", withSessions(applied("a", 5, 100), 0, 0, 500, 0), false},
		{"acks after the restart do not count", withSessions(applied("a", 5, 100, 9, 600), 0, 0, 500, 5), true},
		{"first session may start anywhere", withSessions(applied("a", 9, 200), 0, 0), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := AckImpliesDurable([]history.NodeHistory{tc.node})
			if res.Passed != tc.pass {
				t.Fatalf("Passed = %v, want %v; details %v", res.Passed, tc.pass, res.Details)
			}
		})
	}
}

func TestFailoverBound(t *testing.T) {
	down := []EdgeDown{{Edge: "a", Window: win(1000, 5000)}}
	p := FailoverParams{Within: time.Second, MaxRetries: 10}
	sample := func(ms int, healthy bool, retries int64) history.GatewaySample {
		return history.GatewaySample{Time: at(ms), Healthy: map[string]bool{"a": healthy, "b": true}, Retries: retries}
	}
	good := []history.GatewaySample{sample(900, true, 3), sample(1300, false, 6), sample(3000, false, 6), sample(5100, true, 6)}
	tests := []struct {
		name    string
		reqs    []history.Request
		samples []history.GatewaySample
		pass    bool
	}{
		{"ejected quickly", []history.Request{req(500, 510, "a", 200, ""), req(1500, 1510, "b", 200, "")}, good, true},
		{"still in rotation", nil, []history.GatewaySample{sample(900, true, 0), sample(3000, true, 1), sample(5100, true, 1)}, false},
		{"retries unbounded", nil, []history.GatewaySample{sample(900, true, 0), sample(3000, false, 40), sample(5100, true, 80)}, false},
		{"dead edge answered", []history.Request{req(3000, 3010, "a", 200, "")}, good, false},
		{"answered inside the bound", []history.Request{req(1100, 1110, "a", 200, "")}, good, true},
		{"no samples, only requests judged", []history.Request{req(1500, 1510, "b", 200, "")}, nil, true},
		{"no counter, still in rotation", nil, []history.GatewaySample{sample(900, true, -1), sample(3000, true, -1), sample(5100, true, -1)}, false},
		{"no counter, ejected", nil, []history.GatewaySample{sample(900, true, -1), sample(3000, false, -1), sample(5100, true, -1)}, true},
		{"samples, none during the outage", nil, []history.GatewaySample{sample(900, true, 0), sample(5100, true, 0)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := FailoverBound(tc.reqs, tc.samples, down, p)
			if res.Passed != tc.pass {
				t.Fatalf("Passed = %v, want %v; details %v", res.Passed, tc.pass, res.Details)
			}
		})
	}
	short := []EdgeDown{{Edge: "a", Window: win(1000, 1500)}}
	if res := FailoverBound(nil, []history.GatewaySample{sample(900, true, 0), sample(1200, true, 1), sample(1600, true, 1)}, short, p); !res.Passed {
		t.Fatalf("outage shorter than the bound judged: %v", res.Details)
	}
}

func TestAtMostOnce(t *testing.T) {
	post := func(id string) history.Request {
		r := req(0, 10, "a", 200, "")
		r.Method, r.ID = "POST", id
		return r
	}
	get := req(0, 10, "a", 200, "")
	get.ID = "g1"
	rc := func(id, origin string) history.Receipt {
		return history.Receipt{ID: id, Origin: origin, Method: "POST"}
	}
	tests := []struct {
		name     string
		reqs     []history.Request
		receipts []history.Receipt
		pass     bool
	}{
		{"once each", []history.Request{post("p1"), post("p2")}, []history.Receipt{rc("p1", "web"), rc("p2", "web")}, true},
		{"never arrived is fine", []history.Request{post("p1")}, nil, true},
		{"twice on one origin", []history.Request{post("p1")}, []history.Receipt{rc("p1", "web"), rc("p1", "web")}, false},
		{"once on each origin", []history.Request{post("p1")}, []history.Receipt{rc("p1", "web"), rc("p1", "web-b")}, false},
		{"a GET may repeat", []history.Request{get}, []history.Receipt{rc("g1", "web"), rc("g1", "web")}, true},
		{"unknown ids ignored", []history.Request{post("p1")}, []history.Receipt{rc("zz", "web"), rc("zz", "web")}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := AtMostOnce(tc.reqs, tc.receipts)
			if res.Passed != tc.pass {
				t.Fatalf("Passed = %v, want %v; details %v", res.Passed, tc.pass, res.Details)
			}
		})
	}
}

func TestNackedNeverServed(t *testing.T) {
	broken := []history.Broken{{Function: "f", Version: 3, Windows: []history.RevisionRange{{From: 20, To: 25}}}}
	tests := []struct {
		name  string
		reqs  []history.Request
		nodes []history.NodeHistory
		pass  bool
	}{
		{"previous version kept", []history.Request{req(0, 10, "a", 200, "", fn("f", 2))}, []history.NodeHistory{applied("a", 19, 0, 25, 900)}, true},
		{"broken version served", []history.Request{req(0, 10, "a", 503, "LambdaExecutionError from edgelab", fn("f", 3))}, nil, false},
		{"broken revision applied", nil, []history.NodeHistory{applied("a", 19, 0, 20, 500)}, false},
		{"revision after the fix applied", nil, []history.NodeHistory{applied("a", 19, 0, 26, 500)}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := NackedNeverServed(tc.reqs, tc.nodes, broken)
			if res.Passed != tc.pass {
				t.Fatalf("Passed = %v, want %v; details %v", res.Passed, tc.pass, res.Details)
			}
		})
	}
	open := []history.Broken{{Function: "f", Version: 3, Windows: []history.RevisionRange{{From: 20}}}}
	if res := NackedNeverServed(nil, []history.NodeHistory{applied("a", 99, 0)}, open); res.Passed {
		t.Fatal("an open window did not cover a later revision")
	}
}

func TestNoLostExplainsPostOnDyingEdge(t *testing.T) {
	post := req(100, 200, "", 0, "")
	post.Method, post.Err = "POST", "EOF"
	p := NoLostParams{Healthy: []history.Window{win(0, 1000)}, EdgeFaults: []history.Window{win(150, 500)}}
	if res := NoLostRequests([]history.Request{post}, p); !res.Passed {
		t.Fatalf("a POST cut by an edge kill counted as lost: %v", res.Details)
	}
	get := post
	get.Method = "GET"
	if res := NoLostRequests([]history.Request{get}, p); res.Passed {
		t.Fatal("a GET cut by an edge kill (the gateway must retry it) was explained")
	}
}
