package chaos

import (
	"testing"
	"time"

	"github.com/edgelab/edgelab/chaos/history"
)

func TestFailoverTimeAfter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	nodes := []history.NodeHistory{{Node: "e1", Region: "us-east-1"}, {Node: "e2", Region: "us-west-2"}}
	reqs := []history.Request{
		{Start: at(0), End: at(5), ViewerRegion: "us-east-1", Status: 200, Node: "e1"},       // before the fault
		{Start: at(1000), End: at(1100), ViewerRegion: "us-east-1", Err: "connection reset"}, // failed
		{Start: at(1200), End: at(1250), ViewerRegion: "us-west-2", Status: 200, Node: "e2"}, // other region
		{Start: at(1300), End: at(1400), ViewerRegion: "us-east-1", Status: 502, Node: "e2"}, // 5xx does not count
		{Start: at(1500), End: at(1530), ViewerRegion: "us-east-1", Status: 200, Node: "e2"}, // the failover
		{Start: at(1600), End: at(1610), ViewerRegion: "us-east-1", Status: 200, Node: "e2"},
	}
	ft, ok := FailoverTimeAfter("kill", "node:e1", at(1000), reqs, nodes)
	if !ok || !ft.Served || ft.Time != 530*time.Millisecond || ft.NewEdge != "e2" || ft.Region != "us-east-1" {
		t.Fatalf("got %+v ok=%v, want served by e2 after 530ms", ft, ok)
	}
	// Nothing answered elsewhere: not served.
	ft, ok = FailoverTimeAfter("kill", "node:e1", at(1000), reqs[:4], nodes)
	if !ok || ft.Served {
		t.Fatalf("got %+v, want not served", ft)
	}
	// Unknown node or a non-node target: no measurement.
	if _, ok := FailoverTimeAfter("kill", "node:zz", at(0), reqs, nodes); ok {
		t.Fatal("unknown node measured")
	}
	if _, ok := FailoverTimeAfter("kill", "controlplane:cp1", at(0), reqs, nodes); ok {
		t.Fatal("control plane measured")
	}
	// A node no viewer request reached (a regional edge cache): no measurement.
	recs := append(nodes, history.NodeHistory{Node: "rec-us-east-1", Region: "us-east-1"})
	if _, ok := FailoverTimeAfter("kill", "node:rec-us-east-1", at(1000), reqs, recs); ok {
		t.Fatal("a REC no viewer reaches measured")
	}
}
