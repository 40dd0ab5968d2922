package edgenode

import (
	"strconv"
	"sync"

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

// requestCounters caches the requests counter per (result, status), so
// the hit path skips the label hashing and the status formatting.
type requestCounters struct {
	vec *prometheus.CounterVec
	m   sync.Map // requestLabels -> prometheus.Counter
}

type requestLabels struct {
	result string
	status int
}

func (rc *requestCounters) inc(result string, status int) {
	k := requestLabels{result, status}
	if c, ok := rc.m.Load(k); ok {
		c.(prometheus.Counter).Inc()
		return
	}
	c := rc.vec.WithLabelValues(result, strconv.Itoa(status))
	rc.m.Store(k, c)
	c.Inc()
}

// invocationMetrics caches the per-invocation metric children by
// (function, event, outcome), so the function path skips the label
// hashing of two vectors per invocation.
type invocationMetrics struct {
	m    *metrics
	kids sync.Map // invocationLabels -> *invocationKids
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
	k := invocationLabels{fn, ev, outcome}
	v, ok := im.kids.Load(k)
	if !ok {
		v, _ = im.kids.LoadOrStore(k, &invocationKids{
			count: im.m.invocations.WithLabelValues(fn, string(ev), string(outcome)),
			dur:   im.m.fnDur.WithLabelValues(string(ev), string(outcome)),
		})
	}
	kids := v.(*invocationKids)
	kids.count.Inc()
	kids.dur.Observe(seconds)
}
