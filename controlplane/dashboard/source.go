package dashboard

import (
	"context"
	"time"

	dto "github.com/prometheus/client_model/go"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// Source is what the dashboard reads from, and acts on in, its control
// plane. Every method answers with the current state only; the Hub keeps the
// history. Implementations must be safe for concurrent use and honour ctx.
type Source interface {
	// ReplicaID names the control-plane replica serving the dashboard.
	ReplicaID() string
	// Nodes lists the edge nodes the control planes know.
	Nodes(ctx context.Context) ([]*edgelabv1.Node, error)
	// Status is the propagation state of every distribution.
	Status(ctx context.Context) (*edgelabv1.GetStatusResponse, error)
	// Functions lists the functions with their latest versions.
	Functions(ctx context.Context) ([]*edgelabv1.Function, error)
	// Distributions lists the distributions (for function associations).
	Distributions(ctx context.Context) ([]*edgelabv1.Distribution, error)
	// Faults lists the active chaos faults.
	Faults(ctx context.Context) ([]*edgelabv1.Fault, error)
	// Logs returns function log lines at or after since, oldest first.
	Logs(ctx context.Context, since time.Time) ([]*edgelabv1.LogLine, error)
	// EdgeMetrics gathers the running edge nodes' Prometheus metrics
	// (labelled node=<id>). A nil result with a nil error means no source
	// of edge metrics is configured.
	EdgeMetrics(ctx context.Context) ([]*dto.MetricFamily, error)
	// Replicas lists the dashboards of every control-plane replica (this
	// one included), for the page to move to when its replica dies.
	Replicas(ctx context.Context) ([]Replica, error)
	// Inject stores a fault and returns it with its id and times.
	Inject(ctx context.Context, f *edgelabv1.Fault) (*edgelabv1.Fault, error)
	// Heal removes the fault id (every fault when all) and returns the
	// ids healed.
	Heal(ctx context.Context, id string, all bool) ([]string, error)
}

// Replica is one control-plane replica's dashboard.
type Replica struct {
	// ID is the replica id (cp1...), "" when unknown.
	ID string `json:"id"`
	// URL is the dashboard's base URL, e.g. "http://127.0.0.1:7080/".
	URL string `json:"url"`
}
