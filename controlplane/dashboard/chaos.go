package dashboard

import (
	"fmt"
	"sort"
	"time"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// chaosTracker turns the list of active faults, polled, into a timeline:
// a fault is "injected" when first seen and "healed" when it is gone
// (healed, or expired). Owned by Hub.Run.
type chaosTracker struct {
	known    map[string]Fault
	timeline []FaultEvent
	keep     int
}

func faultOf(f *edgelabv1.Fault, now time.Time) Fault {
	v := Fault{ID: f.GetId(), Kind: f.GetKind(), Target: f.GetTarget(), Created: f.GetCreated().AsTime(), Remaining: none}
	if f.GetExpires() != nil {
		v.Expires = f.GetExpires().AsTime()
		v.Remaining = Num(max(0, v.Expires.Sub(now).Seconds()))
	}
	switch {
	case f.GetLatency().AsDuration() > 0:
		v.Detail = "latency " + f.GetLatency().AsDuration().String()
	case f.GetRate() > 0:
		v.Detail = fmt.Sprintf("rate %.0f%%", f.GetRate()*100)
	}
	if f.GetStatus() != 0 {
		v.Detail += fmt.Sprintf(" status %d", f.GetStatus())
	}
	if d := f.GetDirection(); d != "" {
		v.Detail += " " + d
	}
	return v
}

func (c *chaosTracker) update(now time.Time, faults []*edgelabv1.Fault) {
	live := map[string]bool{}
	for _, f := range faults {
		v := faultOf(f, now)
		live[v.ID] = true
		if _, ok := c.known[v.ID]; !ok {
			at := v.Created
			if at.IsZero() {
				at = now
			}
			c.event(FaultEvent{Time: at, Action: "injected", ID: v.ID, Kind: v.Kind, Target: v.Target})
		}
		c.known[v.ID] = v
	}
	for id, v := range c.known {
		if !live[id] {
			delete(c.known, id)
			c.event(FaultEvent{Time: now, Action: "healed", ID: id, Kind: v.Kind, Target: v.Target})
		}
	}
}

func (c *chaosTracker) event(e FaultEvent) {
	c.timeline = append(c.timeline, e)
	sort.SliceStable(c.timeline, func(i, j int) bool { return c.timeline[i].Time.Before(c.timeline[j].Time) })
	if len(c.timeline) > c.keep {
		c.timeline = c.timeline[len(c.timeline)-c.keep:]
	}
}

func (c *chaosTracker) view(now time.Time, kinds, targets []string) ChaosView {
	v := ChaosView{Active: []Fault{}, Timeline: append([]FaultEvent{}, c.timeline...), Kinds: kinds, Targets: targets}
	if v.Kinds == nil {
		v.Kinds = []string{}
	}
	for _, f := range c.known {
		if !f.Expires.IsZero() {
			f.Remaining = Num(max(0, f.Expires.Sub(now).Seconds()))
		}
		v.Active = append(v.Active, f)
	}
	sort.Slice(v.Active, func(i, j int) bool { return v.Active[i].Created.Before(v.Active[j].Created) })
	return v
}

// targets are the fault targets the inject form offers: every node and
// region seen, every replica and every origin of a distribution.
func targets(net Network, dists []*edgelabv1.Distribution, replicas []Replica) []string {
	out := []string{}
	for _, r := range net.Regions {
		out = append(out, "region:"+r.Name)
		for _, n := range r.Nodes {
			out = append(out, "node:"+n.ID)
		}
	}
	for _, r := range replicas {
		if r.ID != "" {
			out = append(out, "controlplane:"+r.ID)
		}
	}
	seen := map[string]bool{}
	for _, d := range dists {
		for _, o := range d.GetOrigins() {
			if !seen[o.GetId()] {
				seen[o.GetId()] = true
				out = append(out, "origin:"+o.GetId())
			}
		}
	}
	return out
}
