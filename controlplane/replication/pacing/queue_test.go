package pacing

import (
	"testing"
	"time"

	"github.com/edgelab/edgelab/topology"
)

func TestQueueKeepsOrderAndRetimes(t *testing.T) {
	top := topology.Default()
	q := NewQueue[string](Model{Topology: top}) // zero profile: no modelled delay
	t0 := time.Unix(1000, 0)
	q.Push("a", 1, t0.Add(2*time.Second))
	q.Push("b", 2, t0.Add(time.Second)) // seen earlier, must not overtake a
	if at, ok := q.Next(); !ok || !at.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("Next = %v %v, want a's time", at, ok)
	}
	if _, ok := q.Due(t0.Add(1500 * time.Millisecond)); ok {
		t.Fatal("an item came out before it was due")
	}
	q.SetExtra(time.Minute)
	if _, ok := q.Due(t0.Add(10 * time.Second)); ok {
		t.Fatal("extra delay did not re-time the waiting items")
	}
	q.SetExtra(0)
	a, ok := q.Due(t0.Add(2 * time.Second))
	b, ok2 := q.Due(t0.Add(2 * time.Second))
	if !ok || !ok2 || a.Value != "a" || b.Value != "b" || b.Revision != 2 {
		t.Fatalf("Due = %+v %v, %+v %v; want a then b at a's time", a, ok, b, ok2)
	}
	if q.Len() != 0 {
		t.Fatalf("Len = %d after draining", q.Len())
	}
	q.Push("c", 3, t0)
	q.Reset()
	if _, ok := q.Next(); ok {
		t.Fatal("Reset left items")
	}
}

func TestModelDelayFollowsTopology(t *testing.T) {
	top := topology.Default()
	p, err := top.Profile("default")
	if err != nil {
		t.Fatal(err)
	}
	far := ""
	for _, r := range top.Regions() {
		if top.Latency(top.Home(), r) > top.Latency(top.Home(), far) || far == "" {
			far = r
		}
	}
	home := Model{Topology: top, Profile: p, Region: top.Home()}.Delay()
	remote := Model{Topology: top, Profile: p, Region: far}.Delay()
	if remote <= home {
		t.Fatalf("delay to %s = %v, to home %v: want the far region later", far, remote, home)
	}
	if want := p.Base(far, top.Home(), top); remote != want {
		t.Fatalf("delay without jitter source = %v, want the base %v", remote, want)
	}
}
