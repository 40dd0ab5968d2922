package controlplane

import (
	"context"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/controlplane/dashboard"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// dashboardSource is the dashboard's view of a Server: the same calls the
// API serves, made in process.
type dashboardSource struct{ s *Server }

var _ dashboard.Source = dashboardSource{}

// dashboardLogLines bounds one log poll.
const dashboardLogLines = 200

func (d dashboardSource) ReplicaID() string { return d.s.id }

func (d dashboardSource) Nodes(ctx context.Context) ([]*edgelabv1.Node, error) {
	resp, err := d.s.ListNodes(ctx, &edgelabv1.ListNodesRequest{})
	return resp.GetNodes(), err
}

func (d dashboardSource) Status(ctx context.Context) (*edgelabv1.GetStatusResponse, error) {
	return d.s.GetStatus(ctx, &edgelabv1.GetStatusRequest{})
}

func (d dashboardSource) Functions(ctx context.Context) ([]*edgelabv1.Function, error) {
	resp, err := d.s.ListFunctions(ctx, &edgelabv1.ListFunctionsRequest{})
	return resp.GetFunctions(), err
}

func (d dashboardSource) Distributions(ctx context.Context) ([]*edgelabv1.Distribution, error) {
	resp, err := d.s.ListDistributions(ctx, &edgelabv1.ListDistributionsRequest{})
	return resp.GetDistributions(), err
}

func (d dashboardSource) Faults(ctx context.Context) ([]*edgelabv1.Fault, error) {
	resp, err := d.s.chaos.ListFaults(ctx, &edgelabv1.ListFaultsRequest{})
	return resp.GetFaults(), err
}

func (d dashboardSource) Logs(ctx context.Context, since time.Time) ([]*edgelabv1.LogLine, error) {
	req := &edgelabv1.GetLogsRequest{Limit: dashboardLogLines}
	if !since.IsZero() {
		req.Since = timestamppb.New(since)
	}
	resp, err := d.s.GetLogs(ctx, req)
	return resp.GetLines(), err
}

func (d dashboardSource) EdgeMetrics(context.Context) ([]*dto.MetricFamily, error) {
	if d.s.cfg.EdgeMetrics == nil {
		return nil, nil
	}
	fams, err := d.s.cfg.EdgeMetrics.Gather()
	if fams == nil && err == nil {
		fams = []*dto.MetricFamily{} // configured, nothing running
	}
	return fams, err
}

func (d dashboardSource) Replicas(context.Context) ([]dashboard.Replica, error) {
	if d.s.cfg.DashboardReplicas != nil {
		return d.s.cfg.DashboardReplicas(), nil
	}
	return []dashboard.Replica{{ID: d.s.id, URL: "http://" + d.s.MetricsAddr() + "/"}}, nil
}

func (d dashboardSource) Inject(ctx context.Context, f *edgelabv1.Fault) (*edgelabv1.Fault, error) {
	resp, err := d.s.chaos.Inject(ctx, &edgelabv1.InjectRequest{Fault: f})
	return resp.GetFault(), err
}

func (d dashboardSource) Heal(ctx context.Context, id string, all bool) ([]string, error) {
	resp, err := d.s.chaos.Heal(ctx, &edgelabv1.HealRequest{Id: id, All: all})
	return resp.GetHealed(), err
}
