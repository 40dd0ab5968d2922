// Package labapi connects the chaos runner to a running lab through its
// public APIs only: the control plane's ControlPlaneService and ChaosService
// (gRPC), the gateway URL and the endpoints file (lab.json written by
// `edgelab up`, or the same JSON shape for the compose lab). It implements
// chaos.Lab (Lab) and chaos.Faults (Faults); in the compose lab, Faults runs
// the process verbs (stop, kill, start, pause, unpause) at container level
// through package chaos/compose.
//
//	chaos.Runner ──▶ Lab ──gRPC──▶ ControlPlaneService (publish, apply, status, nodes)
//	             │    └─ Run: polls ListNodes, records each node's applied revisions
//	             └─▶ Faults ──gRPC──▶ ChaosService (every kind)
//	                      └─docker─▶ compose.Docker (process verbs, compose lab)
package labapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/edgelab/edgelab/access"
	"github.com/edgelab/edgelab/chaos"
	"github.com/edgelab/edgelab/chaos/history"
	"github.com/edgelab/edgelab/pki"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/topology"
)

// Lab kinds.
const (
	KindAllInOne = "allinone"
	KindCompose  = "compose"
)

// Endpoints is the endpoints file: lab.json of the all-in-one lab (package
// lab writes it), or a file of the same shape describing the compose lab.
type Endpoints struct {
	ControlPlanes []string `json:"controlPlanes"`
	Gateway       string   `json:"gateway"`
	Edges         []struct {
		ID     string `json:"id"`
		Region string `json:"region"`
		PoP    string `json:"pop"`
		URL    string `json:"url"`
	} `json:"edges"`
	Origins []struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	} `json:"origins"`
	Profile string `json:"profile"`
	// AdminToken, CAFile (relative to the file) and Insecure are how to
	// reach the control planes, as lab.json holds them.
	AdminToken string `json:"adminToken"`
	CAFile     string `json:"caFile"`
	Insecure   bool   `json:"insecure"`
}

// DialOptions are the gRPC dial options for the lab's control planes: the
// lab CA and the admin token, or plaintext for an insecure lab.
func (ep Endpoints) DialOptions() ([]grpc.DialOption, error) {
	c := access.Client{Token: ep.AdminToken, Insecure: ep.Insecure}
	if !ep.Insecure && ep.CAFile != "" {
		pool, err := pki.LoadPool(ep.CAFile)
		if err != nil {
			return nil, fmt.Errorf("lab endpoints: %w", err)
		}
		c.Pool = pool
	}
	return c.DialOptions()
}

// LoadEndpoints reads an endpoints file.
func LoadEndpoints(path string) (Endpoints, error) {
	var ep Endpoints
	data, err := os.ReadFile(path)
	if err != nil {
		return ep, fmt.Errorf("reading the lab endpoints: %w", err)
	}
	if err := json.Unmarshal(data, &ep); err != nil {
		return ep, fmt.Errorf("decoding the lab endpoints %s: %w", path, err)
	}
	if ep.Gateway == "" {
		return ep, fmt.Errorf("lab endpoints %s: no gateway", path)
	}
	if ep.CAFile != "" && !filepath.IsAbs(ep.CAFile) {
		ep.CAFile = filepath.Join(filepath.Dir(path), ep.CAFile)
	}
	return ep, nil
}

// Config configures a Lab.
type Config struct {
	// Kind is KindAllInOne or KindCompose. Default KindAllInOne.
	Kind string
	// Conn reaches a control plane (ControlPlaneService). Required.
	Conn grpc.ClientConnInterface
	// Endpoints gives the gateway URL and the profile. Gateway is required.
	Endpoints Endpoints
	// Topology computes the modelled delay; nil means topology.Default().
	Topology *topology.Topology
	// Profile overrides Endpoints.Profile; both empty means "default".
	Profile string
	// PollInterval is how often Run samples ListNodes; default 100ms.
	PollInterval time.Duration
}

// Lab implements chaos.Lab over the control plane's public API. Call Run
// during a scenario so that node histories are recorded. Safe for concurrent use.
type Lab struct {
	cfg Config
	cp  edgelabv1.ControlPlaneServiceClient

	// sampleMu serializes sample: ListNodes answers are folded in the order
	// they were asked. Run's poll, Nodes and FinalState sample concurrently;
	// unserialized, an older answer that returned late was recorded after a
	// newer one, a revision going backwards that the node never applied
	// (a false monotonic-versions violation seen in CI).
	sampleMu sync.Mutex
	mu       sync.Mutex
	nodes    map[string]*history.NodeHistory
	since    map[string]time.Time // node -> connected_since last seen
	gateway  []history.GatewaySample
	http     *http.Client
}

var _ chaos.Lab = (*Lab)(nil)

// New checks cfg and applies defaults.
func New(cfg Config) (*Lab, error) {
	if cfg.Conn == nil {
		return nil, errors.New("labapi: a control-plane connection is required")
	}
	if cfg.Endpoints.Gateway == "" {
		return nil, errors.New("labapi: the gateway URL is required")
	}
	if cfg.Kind == "" {
		cfg.Kind = KindAllInOne
	}
	if cfg.Kind != KindAllInOne && cfg.Kind != KindCompose {
		return nil, fmt.Errorf("labapi: lab kind %q: want allinone or compose", cfg.Kind)
	}
	if cfg.Topology == nil {
		cfg.Topology = topology.Default()
	}
	if cfg.Profile == "" {
		cfg.Profile = cfg.Endpoints.Profile
	}
	if cfg.Profile == "" {
		cfg.Profile = "default"
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	return &Lab{cfg: cfg, cp: edgelabv1.NewControlPlaneServiceClient(cfg.Conn), nodes: map[string]*history.NodeHistory{},
		since: map[string]time.Time{}, http: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}, nil
}

// Run records every node's applied revisions and sessions by polling
// ListNodes, and the gateway's edge health and retries, until ctx ends.
func (l *Lab) Run(ctx context.Context) error {
	t := time.NewTicker(l.cfg.PollInterval)
	defer t.Stop()
	for {
		_, _ = l.sample(ctx)
		l.sampleGateway(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// sample lists the nodes and folds their applied revisions into the histories.
func (l *Lab) sample(ctx context.Context) ([]*edgelabv1.Node, error) {
	l.sampleMu.Lock()
	defer l.sampleMu.Unlock()
	resp, err := l.cp.ListNodes(ctx, &edgelabv1.ListNodesRequest{})
	if err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range resp.GetNodes() {
		h := l.nodes[n.GetId()]
		if h == nil {
			h = &history.NodeHistory{Node: n.GetId(), Region: n.GetRegion(), Pop: n.GetPop(), Role: n.GetRole()}
			l.nodes[n.GetId()] = h
		}
		if cs := n.GetConnectedSince().AsTime(); n.GetConnected() && n.GetConnectedSince() != nil && !cs.Equal(l.since[n.GetId()]) {
			// A new session: what the node said it had when it (re)connected.
			l.since[n.GetId()] = cs
			h.Sessions = append(h.Sessions, history.Session{Since: cs, Revision: n.GetAppliedRevision(), Observed: now})
		}
		if rev := n.GetAppliedRevision(); rev > 0 && (len(h.Applied) == 0 || h.Applied[len(h.Applied)-1].Revision != rev) {
			h.Applied = append(h.Applied, history.Applied{Revision: rev, Time: now})
		}
	}
	return resp.GetNodes(), nil
}

// Info implements chaos.Lab.
func (l *Lab) Info(context.Context) (chaos.LabInfo, error) {
	info := chaos.LabInfo{Kind: l.cfg.Kind, Profile: l.cfg.Profile, GatewayURL: l.cfg.Endpoints.Gateway}
	p, err := l.cfg.Topology.Profile(l.cfg.Profile)
	if err != nil {
		return info, fmt.Errorf("lab profile: %w", err)
	}
	for _, r := range l.cfg.Topology.Regions() {
		info.ModelledDelay = max(info.ModelledDelay, p.Base(r, l.cfg.Topology.Home(), l.cfg.Topology)+time.Duration(p.Jitter))
	}
	return info, nil
}

// Publish implements chaos.Lab: update (or create) the draft, then publish.
func (l *Lab) Publish(ctx context.Context, function string, files []*edgelabv1.SourceFile) (int64, int64, error) {
	_, err := l.cp.UpdateFunction(ctx, &edgelabv1.UpdateFunctionRequest{Name: function, Files: files})
	if status.Code(err) == codes.NotFound {
		_, err = l.cp.CreateFunction(ctx, &edgelabv1.CreateFunctionRequest{Name: function, Files: files})
	}
	if err != nil {
		return 0, 0, fmt.Errorf("storing the draft of %s: %w", function, err)
	}
	resp, err := l.cp.PublishFunction(ctx, &edgelabv1.PublishFunctionRequest{Name: function})
	if err != nil {
		return 0, 0, fmt.Errorf("publishing %s: %w", function, err)
	}
	return resp.GetVersion().GetVersion(), resp.GetRevision(), nil
}

// Distribution implements chaos.Lab.
func (l *Lab) Distribution(ctx context.Context, id string) (*edgelabv1.Distribution, error) {
	resp, err := l.cp.GetDistribution(ctx, &edgelabv1.GetDistributionRequest{Id: id})
	if err != nil {
		return nil, err
	}
	return resp.GetDistribution(), nil
}

// ApplyDistribution implements chaos.Lab.
func (l *Lab) ApplyDistribution(ctx context.Context, d *edgelabv1.Distribution) (int64, error) {
	resp, err := l.cp.ApplyDistribution(ctx, &edgelabv1.ApplyDistributionRequest{Distribution: d})
	if err != nil {
		return 0, err
	}
	return resp.GetRevision(), nil
}

// WaitDeployed implements chaos.Lab by polling GetStatus.
func (l *Lab) WaitDeployed(ctx context.Context, distribution string) error {
	t := time.NewTicker(l.cfg.PollInterval)
	defer t.Stop()
	for {
		resp, err := l.cp.GetStatus(ctx, &edgelabv1.GetStatusRequest{DistributionId: distribution})
		if err == nil {
			for _, d := range resp.GetDistributions() {
				if d.GetDistributionId() == distribution && d.GetState() == edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("%w (last status error: %v)", ctx.Err(), err)
			}
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Nodes implements chaos.Lab: every node seen, Live when connected now.
func (l *Lab) Nodes(ctx context.Context) ([]history.NodeHistory, error) {
	cur, err := l.sample(ctx)
	if err != nil {
		return nil, err
	}
	live := map[string]bool{}
	for _, n := range cur {
		live[n.GetId()] = n.GetConnected()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]history.NodeHistory, 0, len(l.nodes))
	for id, h := range l.nodes {
		c := *h
		c.Applied = append([]history.Applied(nil), h.Applied...)
		c.Sessions = append([]history.Session(nil), h.Sessions...)
		c.Live = live[id]
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}

// FinalState implements chaos.Lab from GetStatus, ListFunctions,
// GetFunction, ListDistributions, GetDistribution and ListNodes.
func (l *Lab) FinalState(ctx context.Context) (history.FinalState, error) {
	var fs history.FinalState
	st, err := l.cp.GetStatus(ctx, &edgelabv1.GetStatusRequest{})
	if err != nil {
		return fs, fmt.Errorf("status: %w", err)
	}
	fs.Revision = st.GetRevision()
	fns, err := l.cp.ListFunctions(ctx, &edgelabv1.ListFunctionsRequest{})
	if err != nil {
		return fs, fmt.Errorf("listing functions: %w", err)
	}
	for _, f := range fns.GetFunctions() {
		g, err := l.cp.GetFunction(ctx, &edgelabv1.GetFunctionRequest{Name: f.GetName()})
		if err != nil {
			return fs, fmt.Errorf("getting function %s: %w", f.GetName(), err)
		}
		for _, v := range g.GetVersions() {
			fs.Versions = append(fs.Versions, history.FunctionVersion{Function: f.GetName(), Version: v})
		}
	}
	ds, err := l.cp.ListDistributions(ctx, &edgelabv1.ListDistributionsRequest{})
	if err != nil {
		return fs, fmt.Errorf("listing distributions: %w", err)
	}
	fs.Distributions = map[string]int64{}
	seen := map[history.FunctionVersion]bool{}
	for _, d := range ds.GetDistributions() {
		g, err := l.cp.GetDistribution(ctx, &edgelabv1.GetDistributionRequest{Id: d.GetId()})
		if err != nil {
			return fs, fmt.Errorf("getting distribution %s: %w", d.GetId(), err)
		}
		fs.Distributions[d.GetId()] = g.GetRevision()
		for _, b := range d.GetBehaviors() {
			for _, a := range b.GetFunctions() {
				fv := history.FunctionVersion{Function: a.GetFunction(), Version: a.GetVersion()}
				if !seen[fv] {
					seen[fv] = true
					fs.Referenced = append(fs.Referenced, fv)
				}
			}
		}
	}
	nodes, err := l.sample(ctx)
	if err != nil {
		return fs, err
	}
	for _, n := range nodes {
		fs.Nodes = append(fs.Nodes, history.NodeState{Node: n.GetId(), Region: n.GetRegion(), Live: n.GetConnected(), AppliedRevision: n.GetAppliedRevision()})
	}
	return fs, nil
}
