package edgenode

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

func TestMetricsTwoNodesOneRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := newCountingOrigin(t, okHandler("max-age=60"))
	var nodes []*Node
	for _, id := range []string{"n1", "n2"} {
		n := startNode(t, newFakeRunner(), func(c *Config) { c.Registerer = reg; c.NodeID = id })
		if err := n.Apply(context.Background(), snapshot(1, o.URL, "", &edgelabv1.Behavior{}), nil); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	do(t, nodes[0], "GET", "/a", nil, "")
	do(t, nodes[0], "GET", "/a", nil, "")
	do(t, nodes[1], "GET", "/a", nil, "")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "edgelab_edge_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			key := ""
			for _, l := range m.GetLabel() {
				key += l.GetName() + "=" + l.GetValue() + ","
			}
			got[key] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"node=n1,result=Miss,status=200,": 1,
		"node=n1,result=Hit,status=200,":  1,
		"node=n2,result=Miss,status=200,": 1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}
