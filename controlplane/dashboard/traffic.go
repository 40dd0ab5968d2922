package dashboard

import (
	"math"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// trafficTracker turns the nodes' cumulative counters, sampled once per
// Hub round, into rates over a sliding window. Owned by Hub.Run.
type trafficTracker struct {
	history, window time.Duration
	source          string
	nodes           map[string]*nodeHistory
}

// nodeHistory is one node's samples (kept for window) and the deltas
// derived from them (kept for history).
type nodeHistory struct {
	region  string
	live    bool // in the latest gather
	samples []sample
	deltas  []delta
}

type sample struct {
	t time.Time
	c *counters
}

// delta is what one node counted over dt seconds ending at t.
type delta struct {
	t                                                   time.Time
	dt                                                  float64
	requests, hits, misses, c4xx, c5xx, execErr, valErr float64
	latency, origin                                     hist
}

func newTrafficTracker(history, window time.Duration) trafficTracker {
	return trafficTracker{history: history, window: window, source: "none", nodes: map[string]*nodeHistory{}}
}

// diff is cur - prev for a counter; a decrease means the node restarted,
// and counts from zero.
func diff(cur, prev float64) float64 {
	if cur < prev {
		return cur
	}
	return cur - prev
}

func (t *trafficTracker) failed(err error) { t.source = "error: " + err.Error() }

func (t *trafficTracker) update(now time.Time, fams []*dto.MetricFamily, net Network) {
	if fams == nil {
		t.source = "none"
		return
	}
	t.source = "nodes"
	region := map[string]string{}
	for _, r := range net.Regions {
		for _, n := range r.Nodes {
			region[n.ID] = r.Name
		}
	}
	for _, h := range t.nodes {
		h.live = false
	}
	for id, c := range countersByNode(fams) {
		h := t.nodes[id]
		if h == nil {
			h = &nodeHistory{}
			t.nodes[id] = h
		}
		h.live = true
		h.region = region[id]
		if h.region == "" {
			h.region = "unknown"
		}
		h.add(now, c, t.window)
	}
	for id, h := range t.nodes {
		for len(h.deltas) > 0 && now.Sub(h.deltas[0].t) > t.history {
			h.deltas = h.deltas[1:]
		}
		if len(h.deltas) == 0 && (len(h.samples) == 0 || now.Sub(h.samples[len(h.samples)-1].t) > t.history) {
			delete(t.nodes, id)
		}
	}
}

// add records a sample and the delta since the oldest sample within window.
func (h *nodeHistory) add(now time.Time, c *counters, window time.Duration) {
	for len(h.samples) > 1 && now.Sub(h.samples[1].t) >= window {
		h.samples = h.samples[1:]
	}
	if len(h.samples) > 0 {
		p := h.samples[0]
		d := delta{t: now, dt: now.Sub(p.t).Seconds(),
			requests: diff(c.requests, p.c.requests), hits: diff(c.hits, p.c.hits), misses: diff(c.misses, p.c.misses),
			c4xx: diff(c.c4xx, p.c.c4xx), c5xx: diff(c.c5xx, p.c.c5xx),
			execErr: diff(c.execErr, p.c.execErr), valErr: diff(c.valErr, p.c.valErr),
			latency: c.latency.minus(p.c.latency), origin: c.origin.minus(p.c.origin)}
		if d.dt > 0 {
			h.deltas = append(h.deltas, d)
		}
	}
	h.samples = append(h.samples, sample{t: now, c: c})
}

// latest is the node's newest counters, nil when it is not running.
func (h *nodeHistory) latest() *counters {
	if !h.live || len(h.samples) == 0 {
		return nil
	}
	return h.samples[len(h.samples)-1].c
}

// pointOf sums deltas of several nodes at one moment into one point.
func pointOf(t time.Time, ds []delta) Point {
	var rps, r4, r5, re, rv, hits, misses float64
	var latency, origin hist
	for _, d := range ds {
		rps += d.requests / d.dt
		r4 += d.c4xx / d.dt
		r5 += d.c5xx / d.dt
		re += d.execErr / d.dt
		rv += d.valErr / d.dt
		hits += d.hits
		misses += d.misses
		latency = latency.plus(d.latency)
		origin = origin.plus(d.origin)
	}
	ratio := math.NaN()
	if hits+misses > 0 {
		ratio = hits / (hits + misses)
	}
	return Point{T: t.UnixMilli(), RPS: Num(rps), HitRatio: Num(ratio), Rate4xx: Num(r4), Rate5xx: Num(r5),
		ExecutionErrors: Num(re), ValidationErrors: Num(rv),
		P50Ms: Num(latency.quantile(0.5) * 1000), P99Ms: Num(latency.quantile(0.99) * 1000),
		OriginP50Ms: Num(origin.quantile(0.5) * 1000), OriginP99Ms: Num(origin.quantile(0.99) * 1000)}
}

func (t *trafficTracker) view() Traffic {
	out := Traffic{Source: t.source, WindowSeconds: t.window.Seconds(), Regions: []Series{}, Nodes: []Series{}}
	type regionAcc struct {
		at     map[int64][]delta
		totals Series
	}
	regions := map[string]*regionAcc{}
	for id, h := range t.nodes {
		s := Series{Name: id, Region: h.region, Points: make([]Point, 0, len(h.deltas))}
		for _, d := range h.deltas {
			s.Points = append(s.Points, pointOf(d.t, []delta{d}))
		}
		if c := h.latest(); c != nil {
			s.Requests, s.ExecutionErrors, s.ValidationErrors = c.requests, c.execErr, c.valErr
		}
		out.Nodes = append(out.Nodes, s)
		r := regions[h.region]
		if r == nil {
			r = &regionAcc{at: map[int64][]delta{}, totals: Series{Name: h.region, Region: h.region}}
			regions[h.region] = r
		}
		for _, d := range h.deltas {
			r.at[d.t.UnixMilli()] = append(r.at[d.t.UnixMilli()], d)
		}
		r.totals.Requests += s.Requests
		r.totals.ExecutionErrors += s.ExecutionErrors
		r.totals.ValidationErrors += s.ValidationErrors
	}
	for _, r := range regions {
		s := r.totals
		ts := make([]int64, 0, len(r.at))
		for ms := range r.at {
			ts = append(ts, ms)
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
		s.Points = make([]Point, 0, len(ts))
		for _, ms := range ts {
			s.Points = append(s.Points, pointOf(time.UnixMilli(ms), r.at[ms]))
		}
		out.Regions = append(out.Regions, s)
	}
	sort.Slice(out.Nodes, func(i, j int) bool { return out.Nodes[i].Name < out.Nodes[j].Name })
	sort.Slice(out.Regions, func(i, j int) bool { return out.Regions[i].Name < out.Regions[j].Name })
	return out
}

// versionTotals sums every live node's counters by function version:
// counts and the duration histogram since the nodes loaded the version,
// the invocation rate over the window, and the nodes holding it.
func (t *trafficTracker) versionTotals() map[fnKey]*versionAcc {
	out := map[fnKey]*versionAcc{}
	for id, h := range t.nodes {
		c := h.latest()
		if c == nil {
			continue
		}
		first := h.samples[0]
		dt := h.samples[len(h.samples)-1].t.Sub(first.t).Seconds()
		for k, f := range c.fns {
			o := out[k]
			if o == nil {
				o = &versionAcc{}
				out[k] = o
			}
			o.add(id, f)
			if dt > 0 {
				prev := 0.0
				if p := first.c.fns[k]; p != nil {
					prev = p.invocations
				}
				o.rate += diff(f.invocations, prev) / dt
			}
		}
	}
	return out
}

// versionAcc sums one function version over nodes.
type versionAcc struct {
	fnCounters
	rate  float64
	held  []string // nodes holding the version
	ranOn []string // nodes that ran it
}

func (o *versionAcc) add(node string, f *fnCounters) {
	o.invocations += f.invocations
	o.execErr += f.execErr
	o.valErr += f.valErr
	o.limit += f.limit
	o.cold += f.cold
	o.timeouts += f.timeouts
	o.memKills += f.memKills
	o.dur = o.dur.plus(f.dur)
	if f.held {
		o.held = append(o.held, node)
		o.memoryBytes = max(o.memoryBytes, f.memoryBytes)
	}
	o.usedBytes = max(o.usedBytes, f.usedBytes)
	if f.invocations > 0 {
		o.ranOn = append(o.ranOn, node)
	}
}

// eventLatencies sums the nodes' duration histograms by event type, over
// the nodes' lifetime.
func (t *trafficTracker) eventLatencies() []EventLatency {
	sum := map[string]hist{}
	for _, h := range t.nodes {
		if c := h.latest(); c != nil {
			for ev, eh := range c.events {
				sum[ev] = sum[ev].plus(*eh)
			}
		}
	}
	out := []EventLatency{}
	for ev, h := range sum {
		out = append(out, EventLatency{Event: ev, Invocations: h.total,
			P50Ms: Num(h.quantile(0.5) * 1000), P99Ms: Num(h.quantile(0.99) * 1000)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Event < out[j].Event })
	return out
}
