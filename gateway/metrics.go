package gateway

import "github.com/prometheus/client_golang/prometheus"

// metrics are the gateway's Prometheus collectors, one set per Gateway.
type metrics struct {
	requests  *prometheus.CounterVec
	retries   *prometheus.CounterVec
	ejections *prometheus.CounterVec
	healthy   *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgelab", Subsystem: "gateway", Name: "requests_total",
			Help: "Viewer requests by serving edge (empty when none could) and status code.",
		}, []string{"edge", "code"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgelab", Subsystem: "gateway", Name: "retries_total",
			Help: "Idempotent requests retried on the named edge after a nearer one failed.",
		}, []string{"edge"}),
		ejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgelab", Subsystem: "gateway", Name: "ejections_total",
			Help: "Edges taken out of rotation, by source (active check or passive connection failure).",
		}, []string{"edge", "source"}),
		healthy: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "edgelab", Subsystem: "gateway", Name: "edge_healthy",
			Help: "1 when the edge is in rotation.",
		}, []string{"edge"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.retries, m.ejections, m.healthy} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) setHealthy(edge string, ok bool) {
	v := 0.0
	if ok {
		v = 1
	}
	m.healthy.WithLabelValues(edge).Set(v)
}

// forget drops the series of an edge that left the list.
func (m *metrics) forget(edge string) {
	m.healthy.DeleteLabelValues(edge)
	m.retries.DeleteLabelValues(edge)
}
