package controlplane

import (
	"github.com/prometheus/client_golang/prometheus"
)

// replicationMetrics are the stream metrics of one Replicator, registered on
// its own Registerer (never the global one).
type replicationMetrics struct {
	connected  prometheus.Gauge
	ackLatency prometheus.Histogram
	nacks      prometheus.Counter
	snapshots  prometheus.Counter
	deltas     prometheus.Counter
	lag        *lagCollector
}

// lagCollector reports revision lag per connected node at scrape time.
type lagCollector struct {
	desc *prometheus.Desc
	r    *Replicator
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	rev, _, _ := c.r.hub.current()
	for id, applied := range c.r.nodes.appliedRevisions() {
		lag := max(rev-applied, 0)
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(lag), id)
	}
}

func newReplicationMetrics(r *Replicator, reg prometheus.Registerer) (*replicationMetrics, error) {
	m := &replicationMetrics{
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "edgelab_replication_connected_nodes", Help: "Edge nodes with an open replication stream to this replica.",
		}),
		ackLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "edgelab_replication_ack_latency_seconds", Help: "Time from sending an update to a node to receiving its ACK/NACK.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 18),
		}),
		nacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgelab_replication_nacks_total", Help: "Updates rejected by a node.",
		}),
		snapshots: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgelab_replication_snapshots_total", Help: "Full snapshots sent (initial syncs and resyncs).",
		}),
		deltas: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgelab_replication_deltas_total", Help: "Deltas sent to nodes.",
		}),
		lag: &lagCollector{
			desc: prometheus.NewDesc("edgelab_replication_revision_lag", "Desired-state revision minus the revision the node applied.", []string{"node"}, nil),
			r:    r,
		},
	}
	for _, c := range []prometheus.Collector{m.connected, m.ackLatency, m.nacks, m.snapshots, m.deltas, m.lag} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
