package edgenode

import (
	"maps"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/sandbox"
)

// staticHeaders are the node's own response header values, rendered once
// per node. The slices are shared by every response: net/http only reads
// them, and write never appends into them in place.
type staticHeaders struct {
	pop, node []string
	// via is the Via value when the response carries none ("1.1 <node> (edgelab)").
	via    []string
	xcache map[string][]string // X-Cache result -> {"<result> from edgelab"}
}

func newStaticHeaders(nodeID, pop string) staticHeaders {
	s := staticHeaders{
		pop:    []string{pop},
		node:   []string{nodeID},
		via:    []string{"1.1 " + nodeID + " (edgelab)"},
		xcache: map[string][]string{},
	}
	for _, x := range []string{xHit, xMiss, xRefresh, xError, xGenerated,
		string(sandbox.OutcomeValidationError), string(sandbox.OutcomeExecutionError), string(sandbox.OutcomeLimitExceeded)} {
		s.xcache[x] = []string{x + " from edgelab"}
	}
	return s
}

// xCache returns the X-Cache value for a result.
func (s *staticHeaders) xCache(result string) []string {
	if v, ok := s.xcache[result]; ok {
		return v
	}
	return []string{result + " from edgelab"}
}

// labelCache caches what a label set resolves to (a metric child), so
// the request path skips the label hashing and formatting. Reads take no
// lock and allocate nothing: the map is replaced, never changed, when a
// new label set appears. The zero value is empty and ready.
type labelCache[K comparable, V any] struct {
	m  atomic.Pointer[map[K]V]
	mu sync.Mutex // serialises additions
}

// get returns the value for k, made by mk the first time.
func (c *labelCache[K, V]) get(k K, mk func() V) V {
	if m := c.m.Load(); m != nil {
		if v, ok := (*m)[k]; ok {
			return v
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
	}
	next := make(map[K]V, 1)
	if old != nil {
		maps.Copy(next, *old)
	}
	v := mk()
	next[k] = v
	c.m.Store(&next)
	return v
}

// requestCounters counts viewer requests per (result, status).
type requestCounters struct {
	vec  *prometheus.CounterVec
	kids labelCache[requestLabels, prometheus.Counter]
}

type requestLabels struct {
	result string
	status int
}

func (rc *requestCounters) inc(result string, status int) {
	rc.kids.get(requestLabels{result, status}, func() prometheus.Counter {
		return rc.vec.WithLabelValues(result, strconv.Itoa(status))
	}).Inc()
}

// invocationMetrics records invocations per (function, event, outcome).
type invocationMetrics struct {
	m    *metrics
	kids labelCache[invocationLabels, *invocationKids]
}

type invocationLabels struct {
	fn      string
	ev      edge.EventType
	outcome sandbox.Outcome
}

type invocationKids struct {
	count prometheus.Counter
	dur   prometheus.Observer
}

func (im *invocationMetrics) observe(fn string, ev edge.EventType, outcome sandbox.Outcome, seconds float64) {
	kids := im.kids.get(invocationLabels{fn, ev, outcome}, func() *invocationKids {
		return &invocationKids{
			count: im.m.invocations.WithLabelValues(fn, string(ev), string(outcome)),
			dur:   im.m.fnDur.WithLabelValues(string(ev), string(outcome)),
		}
	})
	kids.count.Inc()
	kids.dur.Observe(seconds)
}
