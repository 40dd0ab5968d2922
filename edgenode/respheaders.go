package edgenode

import (
	"errors"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

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

// drop removes the entries gone reports true for.
func (c *labelCache[K, V]) drop(gone func(K) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old == nil {
		return
	}
	next := maps.Clone(*old)
	maps.DeleteFunc(next, func(k K, _ V) bool { return gone(k) })
	c.m.Store(&next)
}

// requestCounters counts viewer requests per (result, status) and
// observes their latency.
type requestCounters struct {
	vec  *prometheus.CounterVec
	dur  prometheus.Observer
	kids labelCache[requestLabels, prometheus.Counter]
}

type requestLabels struct {
	result string
	status int
}

// inc counts a request; its latency is observed when start is set.
func (rc *requestCounters) inc(result string, status int, start time.Time) {
	rc.kids.get(requestLabels{result, status}, func() prometheus.Counter {
		return rc.vec.WithLabelValues(result, strconv.Itoa(status))
	}).Inc()
	if !start.IsZero() {
		rc.dur.Observe(time.Since(start).Seconds())
	}
}

// invocationMetrics records invocations per (function, version, event,
// outcome).
type invocationMetrics struct {
	m    *metrics
	kids labelCache[invocationLabels, *invocationKids]
}

type invocationLabels struct {
	fn      string
	version int64
	ev      edge.EventType
	outcome sandbox.Outcome
}

type invocationKids struct {
	count prometheus.Counter
	dur   prometheus.Observer
	vdur  prometheus.Observer
}

func (im *invocationMetrics) observe(fn string, version int64, ev edge.EventType, res sandbox.Result) {
	kids := im.kids.get(invocationLabels{fn, version, ev, res.Outcome}, func() *invocationKids {
		v := strconv.FormatInt(version, 10)
		return &invocationKids{
			count: im.m.invocations.WithLabelValues(fn, v, string(ev), string(res.Outcome)),
			dur:   im.m.fnDur.WithLabelValues(string(ev), string(res.Outcome)),
			vdur:  im.m.versionDur.WithLabelValues(fn, v),
		}
	})
	kids.count.Inc()
	s := res.Duration.Seconds()
	kids.dur.Observe(s)
	kids.vdur.Observe(s)
	// The rare cases count without a cached child.
	if res.Cold {
		im.m.coldStarts.WithLabelValues(fn, strconv.FormatInt(version, 10)).Inc()
	}
	switch {
	case res.Err == nil:
	case errors.Is(res.Err, sandbox.ErrTimeout):
		im.m.timeouts.WithLabelValues(fn, strconv.FormatInt(version, 10)).Inc()
	case errors.Is(res.Err, sandbox.ErrMemoryLimit):
		im.m.memory.WithLabelValues(fn, strconv.FormatInt(version, 10)).Inc()
	}
}

// forget drops a version the node unloaded: its cached children and its
// series.
func (im *invocationMetrics) forget(fn string, version int64) {
	im.kids.drop(func(k invocationLabels) bool { return k.fn == fn && k.version == version })
	im.m.forgetVersion(fn, version)
}
