package chaos

import (
	"context"
	"time"

	"github.com/edgelab/edgelab/chaos/history"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// Faults injects and heals faults. The all-in-one lab implements it with the
// control plane's ChaosService; the compose lab can add container-level
// actions (docker stop/kill/pause, network disconnect, netem via nsenter).
//
// Targets arrive as the scenario wrote them, except node:@<region>, which the
// Runner resolves to a live node id; other @ selectors (controlplane:@0,
// etcd:@1: the n-th replica or member) are the implementation's to resolve.
// Implementations must be safe for concurrent use.
type Faults interface {
	// Inject starts f and returns it as stored (with its id).
	Inject(ctx context.Context, f *edgelabv1.Fault) (*edgelabv1.Fault, error)
	// Heal ends the fault with the given id.
	Heal(ctx context.Context, id string) error
}

// LabInfo describes the lab a Runner drives.
type LabInfo struct {
	// Kind is "allinone" or "compose".
	Kind string
	// Profile is the propagation profile the lab runs with.
	Profile string
	// GatewayURL is the viewer gateway's base URL, where load goes.
	GatewayURL string
	// ModelledDelay is the longest modelled propagation delay to any region
	// under Profile (including staged rollout); converge bounds add to it.
	ModelledDelay time.Duration
}

// Lab is the part of a running lab a scenario needs. Implementations must be
// safe for concurrent use.
type Lab interface {
	// Info describes the lab.
	Info(ctx context.Context) (LabInfo, error)
	// Publish replaces function's draft with files (creating the function
	// when absent) and publishes it, returning the new version and the etcd
	// revision of the publish.
	Publish(ctx context.Context, function string, files []*edgelabv1.SourceFile) (version, revision int64, err error)
	// Distribution returns the stored distribution.
	Distribution(ctx context.Context, id string) (*edgelabv1.Distribution, error)
	// ApplyDistribution stores d and returns the etcd revision of the change.
	ApplyDistribution(ctx context.Context, d *edgelabv1.Distribution) (revision int64, err error)
	// WaitDeployed returns when the distribution's status is Deployed, or ctx's error.
	WaitDeployed(ctx context.Context, distribution string) error
	// Nodes lists every edge node the lab knows, alive or not, with the
	// revisions each applied and when.
	Nodes(ctx context.Context) ([]history.NodeHistory, error)
	// FinalState returns the etcd listing and every node's state.
	FinalState(ctx context.Context) (history.FinalState, error)
	// Invalidate invalidates paths of a distribution and returns the etcd
	// revision of the invalidation.
	Invalidate(ctx context.Context, distribution string, paths []string) (revision int64, err error)
	// Revisions returns the latest desired-state revision and the revision
	// each connected node has acknowledged.
	Revisions(ctx context.Context) (latest int64, acked map[string]int64, err error)
	// Observations returns what the lab saw besides the nodes: the
	// gateway's samples over the run and the origins' receipts.
	Observations(ctx context.Context) (Observations, error)
}

// Observations are the lab-side records of a run.
type Observations struct {
	Gateway  []history.GatewaySample `json:"gateway,omitempty"`
	Receipts []history.Receipt       `json:"receipts,omitempty"`
}
