package edgenode

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgelab/edgelab/edgenode/cache"
	"github.com/edgelab/edgelab/sandbox"
)

// metrics are the node's Prometheus collectors, registered in
// Config.Registerer with the label node=<id>. Series labelled with a
// function version exist only while the node holds the version: they are
// deleted when it is unloaded (forgetVersion), which bounds their number
// by the versions the distributions use.
type metrics struct {
	requests    *prometheus.CounterVec
	requestDur  prometheus.Histogram
	originDur   *prometheus.HistogramVec
	invocations *prometheus.CounterVec
	fnDur       *prometheus.HistogramVec
	versionDur  *prometheus.HistogramVec
	coldStarts  *prometheus.CounterVec
	timeouts    *prometheus.CounterVec
	memory      *prometheus.CounterVec
}

// heldVersion is a function version the node holds, with its effective
// memory limit.
type heldVersion struct {
	name     string
	version  int64
	memoryMB int
}

// fnVersionLabels are the label names of the per-version series.
var fnVersionLabels = []string{"function", "version"}

func newMetrics(reg prometheus.Registerer, nodeID string, c *cache.Cache, held heldCollector) (*metrics, error) {
	reg = prometheus.WrapRegistererWith(prometheus.Labels{"node": nodeID}, reg)
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgelab_edge_requests_total", Help: "Viewer requests by X-Cache result and status code.",
		}, []string{"result", "status"}),
		requestDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "edgelab_edge_request_duration_seconds", Help: "Viewer request latency at the node, from the request's arrival to its response written.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}),
		originDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "edgelab_edge_origin_duration_seconds", Help: "Origin fetch latency (headers and body).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"origin", "outcome"}),
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgelab_edge_function_invocations_total", Help: "Function invocations by version, event type and outcome.",
		}, []string{"function", "version", "event", "outcome"}),
		fnDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "edgelab_edge_function_duration_seconds", Help: "Function invocation duration by event type and outcome.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 18),
		}, []string{"event", "outcome"}),
		versionDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "edgelab_edge_function_version_duration_seconds", Help: "Function invocation duration by function version.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 18),
		}, fnVersionLabels),
		coldStarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgelab_edge_function_cold_starts_total", Help: "Invocations that started a new worker or interpreter.",
		}, fnVersionLabels),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgelab_edge_function_timeouts_total", Help: "Invocations that ran past the function's timeout (LambdaExecutionError).",
		}, fnVersionLabels),
		memory: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgelab_edge_function_memory_exceeded_total", Help: "Invocations whose worker went over the function's memory limit (LambdaExecutionError).",
		}, fnVersionLabels),
	}
	cacheBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "edgelab_edge_cache_bytes", Help: "Accounted bytes in the object cache.",
	}, func() float64 { _, b := c.Stats(); return float64(b) })
	cacheItems := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "edgelab_edge_cache_items", Help: "Objects in the cache.",
	}, func() float64 { n, _ := c.Stats(); return float64(n) })
	for _, col := range []prometheus.Collector{m.requests, m.requestDur, m.originDur, m.invocations, m.fnDur, m.versionDur,
		m.coldStarts, m.timeouts, m.memory, cacheBytes, cacheItems, held} {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// forgetVersion deletes the series of a version the node no longer holds.
func (m *metrics) forgetVersion(name string, version int64) {
	l := prometheus.Labels{"function": name, "version": strconv.FormatInt(version, 10)}
	for _, v := range []*prometheus.MetricVec{m.invocations.MetricVec, m.versionDur.MetricVec,
		m.coldStarts.MetricVec, m.timeouts.MetricVec, m.memory.MetricVec} {
		v.DeletePartialMatch(l)
	}
}

// memoryDesc and memoryUsedDesc describe the per-version memory gauges.
var (
	memoryDesc = prometheus.NewDesc("edgelab_edge_function_memory_limit_bytes",
		"Memory limit of each function version the node holds (one series per version loaded on the node).",
		fnVersionLabels, nil)
	memoryUsedDesc = prometheus.NewDesc("edgelab_edge_function_memory_used_bytes",
		"Anonymous RSS of the worker running each function version, as the memory watchdog last read it (versions with a live worker only).",
		fnVersionLabels, nil)
)

// heldCollector exports one memory-limit series per version held lists,
// and one memory-used series per version with a live worker.
type heldCollector struct {
	held func() []heldVersion
	used func() []sandbox.WorkerMemory
}

// Describe implements prometheus.Collector.
func (h heldCollector) Describe(ch chan<- *prometheus.Desc) { ch <- memoryDesc; ch <- memoryUsedDesc }

// Collect implements prometheus.Collector.
func (h heldCollector) Collect(ch chan<- prometheus.Metric) {
	for _, v := range h.held() {
		ch <- prometheus.MustNewConstMetric(memoryDesc, prometheus.GaugeValue, float64(int64(v.memoryMB)<<20),
			v.name, strconv.FormatInt(v.version, 10))
	}
	for _, w := range h.used() {
		ch <- prometheus.MustNewConstMetric(memoryUsedDesc, prometheus.GaugeValue, float64(w.RSSBytes),
			w.Function, strconv.FormatInt(w.Version, 10))
	}
}
