package dashboard

import (
	"math"
	"sort"

	dto "github.com/prometheus/client_model/go"
)

// The edge node metrics the dashboard reads (edgenode/metrics.go).
const (
	metricRequests    = "edgelab_edge_requests_total"
	metricRequestDur  = "edgelab_edge_request_duration_seconds"
	metricOriginDur   = "edgelab_edge_origin_duration_seconds"
	metricInvocations = "edgelab_edge_function_invocations_total"
	metricFnDur       = "edgelab_edge_function_duration_seconds"
	metricVersionDur  = "edgelab_edge_function_version_duration_seconds"
	metricColdStarts  = "edgelab_edge_function_cold_starts_total"
	metricTimeouts    = "edgelab_edge_function_timeouts_total"
	metricMemoryKills = "edgelab_edge_function_memory_exceeded_total"
	metricMemoryLimit = "edgelab_edge_function_memory_limit_bytes"
	metricMemoryUsed  = "edgelab_edge_function_memory_used_bytes"
)

// X-Cache results and function outcomes the views count.
const (
	resultHit             = "Hit"
	resultRefreshHit      = "RefreshHit"
	resultMiss            = "Miss"
	outcomeExecutionError = "LambdaExecutionError"
	outcomeValidation     = "LambdaValidationError"
	outcomeLimitExceeded  = "LambdaLimitExceeded"
)

// hist is a cumulative Prometheus histogram: counts[i] observations <= bounds[i].
type hist struct {
	bounds []float64
	counts []float64
	total  float64
}

func (h *hist) add(m *dto.Histogram) {
	bs := m.GetBucket()
	if h.bounds == nil {
		for _, b := range bs {
			h.bounds = append(h.bounds, b.GetUpperBound())
		}
		h.counts = make([]float64, len(bs))
	}
	if len(bs) != len(h.bounds) {
		return // different buckets: not comparable, skipped
	}
	for i, b := range bs {
		h.counts[i] += float64(b.GetCumulativeCount())
	}
	h.total += float64(m.GetSampleCount())
}

// minus is h - prev bucket by bucket; a decrease (the node restarted)
// counts from zero.
func (h hist) minus(prev hist) hist {
	if len(prev.counts) != len(h.counts) || prev.total > h.total {
		return h
	}
	out := hist{bounds: h.bounds, counts: make([]float64, len(h.counts)), total: h.total - prev.total}
	for i := range h.counts {
		out.counts[i] = h.counts[i] - prev.counts[i]
	}
	return out
}

func (h hist) plus(o hist) hist {
	if h.bounds == nil {
		return hist{bounds: o.bounds, counts: append([]float64(nil), o.counts...), total: o.total}
	}
	if len(o.counts) != len(h.counts) {
		return h
	}
	for i := range h.counts {
		h.counts[i] += o.counts[i]
	}
	h.total += o.total
	return h
}

// quantile interpolates linearly within the bucket holding rank q*total,
// as Prometheus' histogram_quantile does; NaN without observations. An
// answer beyond the last finite bound is that bound.
func (h hist) quantile(q float64) float64 {
	if h.total <= 0 || len(h.bounds) == 0 {
		return math.NaN()
	}
	rank := q * h.total
	i := sort.Search(len(h.counts), func(i int) bool { return h.counts[i] >= rank })
	if i >= len(h.bounds) {
		return h.bounds[len(h.bounds)-1]
	}
	lo, below := 0.0, 0.0
	if i > 0 {
		lo, below = h.bounds[i-1], h.counts[i-1]
	}
	in := h.counts[i] - below
	if in <= 0 {
		return h.bounds[i]
	}
	return lo + (h.bounds[i]-lo)*(rank-below)/in
}

// fnKey names one function version; version is the label's text ("3"),
// "" when the node does not label versions.
type fnKey struct{ name, version string }

// fnCounters are one function version's counts on one node.
type fnCounters struct {
	invocations, execErr, valErr, limit, cold, timeouts, memKills float64
	dur                                                           hist
	// memoryBytes is the version's memory limit; held says the node
	// holds (has loaded) the version; usedBytes is its worker's RSS (0:
	// no live worker, or not reported).
	memoryBytes, usedBytes float64
	held                   bool
}

// counters are one node's cumulative metrics at one moment.
type counters struct {
	requests, hits, misses, c4xx, c5xx, execErr, valErr float64
	latency, origin                                     hist
	fns                                                 map[fnKey]*fnCounters
	events                                              map[string]*hist
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// countersByNode splits gathered metric families by their node label.
func countersByNode(fams []*dto.MetricFamily) map[string]*counters {
	out := map[string]*counters{}
	get := func(m *dto.Metric) *counters {
		id := label(m, "node")
		c := out[id]
		if c == nil {
			c = &counters{fns: map[fnKey]*fnCounters{}, events: map[string]*hist{}}
			out[id] = c
		}
		return c
	}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			get(m).add(f.GetName(), m)
		}
	}
	delete(out, "")
	return out
}

// add folds one series of the family name into c.
func (c *counters) add(name string, m *dto.Metric) {
	switch name {
	case metricRequests:
		c.addRequest(label(m, "result"), label(m, "status"), m.GetCounter().GetValue())
	case metricRequestDur:
		c.latency.add(m.GetHistogram())
	case metricOriginDur:
		c.origin.add(m.GetHistogram())
	case metricInvocations:
		c.fn(m).addOutcome(label(m, "outcome"), m.GetCounter().GetValue())
	case metricColdStarts:
		c.fn(m).cold += m.GetCounter().GetValue()
	case metricTimeouts:
		c.fn(m).timeouts += m.GetCounter().GetValue()
	case metricMemoryKills:
		c.fn(m).memKills += m.GetCounter().GetValue()
	case metricVersionDur:
		c.fn(m).dur.add(m.GetHistogram())
	case metricMemoryLimit:
		f := c.fn(m)
		f.held, f.memoryBytes = true, m.GetGauge().GetValue()
	case metricMemoryUsed:
		c.fn(m).usedBytes = m.GetGauge().GetValue()
	case metricFnDur:
		ev := label(m, "event")
		if c.events[ev] == nil {
			c.events[ev] = &hist{}
		}
		c.events[ev].add(m.GetHistogram())
	}
}

func (c *counters) addRequest(result, status string, v float64) {
	c.requests += v
	switch result {
	case resultHit, resultRefreshHit:
		c.hits += v
	case resultMiss:
		c.misses += v
	case outcomeExecutionError:
		c.execErr += v
	case outcomeValidation:
		c.valErr += v
	}
	if len(status) == 3 {
		switch status[0] {
		case '4':
			c.c4xx += v
		case '5':
			c.c5xx += v
		}
	}
}

// fn is the counters of the function version m is labelled with.
func (c *counters) fn(m *dto.Metric) *fnCounters {
	k := fnKey{label(m, "function"), label(m, "version")}
	f := c.fns[k]
	if f == nil {
		f = &fnCounters{}
		c.fns[k] = f
	}
	return f
}

func (f *fnCounters) addOutcome(outcome string, v float64) {
	f.invocations += v
	switch outcome {
	case outcomeExecutionError:
		f.execErr += v
	case outcomeValidation:
		f.valErr += v
	case outcomeLimitExceeded:
		f.limit += v
	}
}
