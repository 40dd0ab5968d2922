package edgenode

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgelab/edgelab/edgenode/cache"
)

type metrics struct {
	requests    *prometheus.CounterVec
	originDur   *prometheus.HistogramVec
	invocations *prometheus.CounterVec
	fnDur       *prometheus.HistogramVec
	coldStarts  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, nodeID string, c *cache.Cache) (*metrics, error) {
	reg = prometheus.WrapRegistererWith(prometheus.Labels{"node": nodeID}, reg)
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgelab_edge_requests_total", Help: "Viewer requests by X-Cache result and status code.",
		}, []string{"result", "status"}),
		originDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "edgelab_edge_origin_duration_seconds", Help: "Origin fetch latency (headers and body).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"origin", "outcome"}),
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgelab_edge_function_invocations_total", Help: "Function invocations by event type and outcome.",
		}, []string{"function", "event", "outcome"}),
		fnDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "edgelab_edge_function_duration_seconds", Help: "Function invocation duration.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 18),
		}, []string{"event", "outcome"}),
		coldStarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgelab_edge_function_cold_starts_total", Help: "Invocations that started a new worker or interpreter.",
		}, []string{"function"}),
	}
	cacheBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "edgelab_edge_cache_bytes", Help: "Accounted bytes in the object cache.",
	}, func() float64 { _, b := c.Stats(); return float64(b) })
	cacheItems := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "edgelab_edge_cache_items", Help: "Objects in the cache.",
	}, func() float64 { n, _ := c.Stats(); return float64(n) })
	for _, col := range []prometheus.Collector{m.requests, m.originDur, m.invocations, m.fnDur, m.coldStarts, cacheBytes, cacheItems} {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	return m, nil
}
