package dashboard

import (
	"context"
	"fmt"
	"time"

	dto "github.com/prometheus/client_model/go"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// round is what one poll of the Source returned.
type round struct {
	now        time.Time
	nodes      []*edgelabv1.Node
	nodesOK    bool
	status     *edgelabv1.GetStatusResponse
	functions  []*edgelabv1.Function
	dists      []*edgelabv1.Distribution
	faults     []*edgelabv1.Fault
	faultsOK   bool
	logs       []*edgelabv1.LogLine
	metrics    []*dto.MetricFamily
	metricsErr error
	replicas   []Replica
	errs       []string
}

// poll reads everything from the Source, each call bounded, and notes
// which calls failed (the views keep their last data for those).
func (h *Hub) poll(ctx context.Context) *round {
	ctx, cancel := context.WithTimeout(ctx, max(3*h.cfg.Interval, 3*time.Second))
	defer cancel()
	src := h.cfg.Source
	r := &round{now: h.cfg.Now()}
	note := func(what string, err error) bool {
		if err != nil {
			r.errs = append(r.errs, fmt.Sprintf("%s: %v", what, err))
			return false
		}
		return true
	}
	var err error
	r.nodes, err = src.Nodes(ctx)
	r.nodesOK = note("nodes", err)
	r.status, err = src.Status(ctx)
	note("status", err)
	r.functions, err = src.Functions(ctx)
	note("functions", err)
	r.dists, err = src.Distributions(ctx)
	note("distributions", err)
	r.faults, err = src.Faults(ctx)
	r.faultsOK = note("faults", err)
	r.logs, err = src.Logs(ctx, h.logs.since())
	note("logs", err)
	r.metrics, err = src.EdgeMetrics(ctx)
	if !note("edge metrics", err) {
		r.metricsErr = err
	}
	r.replicas, err = src.Replicas(ctx)
	note("replicas", err)
	return r
}

// refresh polls once, folds the answers into the history and publishes
// the new State.
func (h *Hub) refresh(ctx context.Context) {
	r := h.poll(ctx)
	if ctx.Err() != nil {
		return
	}
	s := &State{Replica: h.cfg.Source.ReplicaID(), Time: r.now, Errors: r.errs, Replicas: r.replicas}
	if s.Errors == nil {
		s.Errors = []string{}
	}
	if r.status != nil {
		s.Revision = r.status.GetRevision()
	}
	if r.nodesOK {
		h.network.update(r.now, r.nodes)
	}
	s.Network = h.network.view(r.now, s.Revision)
	if r.status != nil {
		h.rollouts.update(r.status, r.dists)
	}
	s.Rollouts = h.rollouts.view()
	if r.metricsErr == nil {
		h.traffic.update(r.now, r.metrics, s.Network)
	} else {
		h.traffic.failed(r.metricsErr)
	}
	s.Traffic = h.traffic.view()
	s.Functions = functionsView(r.functions, r.dists, h.traffic)
	if r.faultsOK {
		h.chaos.update(r.now, r.faults)
	}
	s.Chaos = h.chaos.view(r.now, h.cfg.FaultKinds, targets(s.Network, r.dists, r.replicas))
	h.logs.add(r.logs)
	s.Logs = h.logs.view()
	h.publish(s)
}
