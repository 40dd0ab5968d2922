package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"

	"github.com/edgelab/edgelab/controlplane"
	"github.com/edgelab/edgelab/controlplane/dashboard"
	"github.com/edgelab/edgelab/edgenode"
	"github.com/edgelab/edgelab/edgenode/replica"
	"github.com/edgelab/edgelab/gateway"
	"github.com/edgelab/edgelab/latency"
	"github.com/edgelab/edgelab/origin"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/store/embedded"
	"github.com/edgelab/edgelab/topology"
	"github.com/edgelab/edgelab/viewerinfo"
)

// Config configures an all-in-one lab. Zero values mean the documented defaults.
type Config struct {
	// DataDir holds etcd's data, every node's persisted state and lab.json.
	// Default ".edgelab". State survives a restart on the same DataDir.
	DataDir string
	// Topology is the network; nil means topology.Default().
	Topology *topology.Topology
	// Profile is the propagation delay profile ("default", "realistic",
	// "instant"...). Default "default".
	Profile string
	// Regions are the regions that get edge nodes; empty means every region
	// of the topology.
	Regions []string
	// NodesPerRegion is the number of edge nodes per region. Default 1.
	NodesPerRegion int
	// ControlPlanes is the number of control-plane replicas. Default 2.
	ControlPlanes int
	// Host is the loopback address every component binds. Default 127.0.0.1.
	Host string
	// BasePort numbers the listeners: control planes BasePort, BasePort+1...;
	// dashboard/metrics BasePort+10...; gateway BasePort+1010 (8080 for the
	// default 7070); edges BasePort+1011...; origins BasePort+1931 and +1932
	// (9001, 9002), the S3-mode origin BasePort+1933 (9003). 0 means every
	// listener picks a free port (tests).
	BasePort int
	// SkipSample leaves out the sample distribution and functions.
	SkipSample bool
	// Logger receives the components' logs. Default: discard.
	Logger *slog.Logger
	// NodeCacheBytes bounds each edge's cache. Default 64 MiB.
	NodeCacheBytes int64
	// MemoryCgroup is every edge's edgenode.Config.MemoryCgroup and every
	// control plane's ("auto", a cgroup directory, or "" / "off": the RSS
	// watchdog alone).
	MemoryCgroup string
	// ShareWorkerNetwork is every edge's edgenode.Config.ShareWorkerNetwork.
	ShareWorkerNetwork bool
	// OneTier leaves out the regional edge caches: PoPs go to the origin
	// themselves. Default false: both tiers (lab/tiers.go).
	OneTier bool
	// LatencyScale turns the data-plane latency model on (package
	// latency): every hop a request makes (viewer -> PoP in the gateway,
	// PoP -> REC -> shield -> origin, a function's edge.Fetch) waits 2 x
	// the topology's one-way latency x LatencyScale. 0: off.
	LatencyScale float64
	// FetchRegions places edge.Fetch targets ("host[:port]" -> region) for
	// the latency model; a target not listed is in the home region.
	FetchRegions map[string]string
	// latency is the model built from LatencyScale (nil: off).
	latency *latency.Model
	// Progress receives one-line progress notes for people (slow profiles).
	// Default: discard.
	Progress io.Writer
	// Insecure runs every gRPC connection in plaintext with no
	// authentication (for watching the stream in a workshop). By default
	// the lab creates a CA and an admin token under DataDir/pki, and every
	// component connects with mutual TLS.
	Insecure bool
}

// DefaultBasePort gives the all-in-one its well-known ports (control plane
// 7070, so edgectl works without flags; gateway 8080; origins 9001, 9002,
// 9003).
const DefaultBasePort = 7070

func (c Config) withDefaults() (Config, error) {
	if c.DataDir == "" {
		c.DataDir = ".edgelab"
	}
	if c.Topology == nil {
		c.Topology = topology.Default()
	}
	if c.Profile == "" {
		c.Profile = "default"
	}
	if _, err := c.Topology.Profile(c.Profile); err != nil {
		return c, fmt.Errorf("lab: %w (profiles: %v)", err, c.Topology.ProfileNames())
	}
	if len(c.Regions) == 0 {
		c.Regions = c.Topology.Regions()
	}
	var err error
	if c.latency, err = latency.New(latency.Config{Topology: c.Topology, Scale: c.LatencyScale, FetchRegions: c.FetchRegions}); err != nil {
		return c, fmt.Errorf("lab: %w", err)
	}
	for _, r := range c.Regions {
		if !c.Topology.HasRegion(r) {
			return c, fmt.Errorf("lab: region %q is not in the topology (regions: %v)", r, c.Topology.Regions())
		}
	}
	if c.NodesPerRegion <= 0 {
		c.NodesPerRegion = 1
	}
	if c.ControlPlanes <= 0 {
		c.ControlPlanes = 2
	}
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.NodeCacheBytes <= 0 {
		c.NodeCacheBytes = 64 << 20
	}
	return c, nil
}

func (c Config) addr(offset int) string {
	if c.BasePort == 0 {
		return net.JoinHostPort(c.Host, "0")
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(c.BasePort+offset))
}

// Endpoints is what lab.json holds: every listener of the lab, for scripts.
type Endpoints struct {
	ControlPlanes []string       `json:"controlPlanes"`
	Gateway       string         `json:"gateway"`
	Dashboard     string         `json:"dashboard"`
	Edges         []EdgeEndpoint `json:"edges"`
	// RECs are the regional edge caches (not for viewers).
	RECs    []EdgeEndpoint `json:"recs,omitempty"`
	Origins []OriginInfo   `json:"origins"`
	Profile string         `json:"profile"`
	// LatencyScale is the data-plane latency model's scale (0: off).
	LatencyScale float64 `json:"latencyScale,omitempty"`
	// Token is a JWT the sample jwt-auth function accepts (valid one year).
	Token string `json:"token,omitempty"`
	// AdminToken is the control planes' admin API token (edgectl reads it
	// from here); CAFile the lab CA's certificate, relative to lab.json.
	AdminToken string `json:"adminToken,omitempty"`
	CAFile     string `json:"caFile,omitempty"`
	// Insecure says the lab runs without TLS and authentication.
	Insecure bool `json:"insecure,omitempty"`
	// File is where lab.json is (not part of the file itself).
	File string `json:"-"`
}

// EdgeEndpoint is one edge node of the lab.
type EdgeEndpoint struct {
	ID     string `json:"id"`
	Region string `json:"region"`
	PoP    string `json:"pop"`
	URL    string `json:"url"`
	// Role is "rec" for a regional edge cache (PoP is then its name).
	Role string `json:"role,omitempty"`
}

// OriginInfo is one sample origin.
type OriginInfo struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

// Lab is a running all-in-one network. Its methods are safe for concurrent use.
type Lab struct {
	cfg      Config
	ctx      context.Context
	cancel   context.CancelFunc
	etcdStop func()
	etcdEPs  []string

	mu      sync.Mutex
	cps     []*cpHandle
	origins []*originHandle
	edges   []*edgeHandle
	gw      *gateway.Gateway
	token   string
	trust   *trust
	conn    *grpc.ClientConn
	// viewers is the topology's viewer location file, read once (nil: none).
	viewers *viewerinfo.DB

	wg sync.WaitGroup

	// closing is set by Close so the fault follower does not restart what
	// Close is stopping.
	closing     atomic.Bool
	faultCancel context.CancelFunc
	faultDone   chan struct{}
}

// startEtcd runs the embedded etcd member, over TLS with client
// certificates unless the lab is insecure.
func (l *Lab) startEtcd(ctx context.Context) error {
	files, err := l.trust.etcdMember(l.ctx, &l.wg, func(err error) { l.cfg.Logger.Warn("lab: etcd certificate", "err", err) })
	if err != nil {
		return err
	}
	e, err := embedded.StartTLS(ctx, filepath.Join(l.cfg.DataDir, "etcd"), files)
	if err != nil {
		return fmt.Errorf("lab: embedded etcd: %w", err)
	}
	l.etcdStop, l.etcdEPs = e.Close, e.Endpoints()
	return nil
}

type cpHandle struct {
	id     string
	addr   string
	srv    *controlplane.Server
	cancel context.CancelFunc
	done   chan struct{}
}

type originHandle struct {
	id     string
	srv    *origin.Server
	cancel context.CancelFunc
	done   chan struct{}
}

type edgeHandle struct {
	info   EdgeEndpoint
	addr   string // listen address, reused on restart
	proc   *edgenode.Process
	cancel context.CancelFunc
	done   chan struct{}
	// history of applied revisions across restarts.
	history []int64
	// metrics is this run's registry (a restarted edge gets a new one).
	metrics *prometheus.Registry
}

// Start brings the whole lab up and, unless SkipSample, deploys the sample
// distribution and waits until it is Deployed. On error everything already
// started is stopped.
func Start(ctx context.Context, cfg Config) (_ *Lab, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("lab: data dir: %w", err)
	}
	lctx, cancel := context.WithCancel(context.Background())
	l := &Lab{cfg: cfg, ctx: lctx, cancel: cancel}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	log := cfg.Logger
	if l.trust, err = loadTrust(cfg.DataDir, cfg.Host, cfg.Insecure); err != nil {
		return nil, err
	}
	if f := cfg.Topology.ViewerLocations(); f != "" {
		if l.viewers, err = viewerinfo.Load(f); err != nil {
			return nil, fmt.Errorf("lab: topology: %w", err)
		}
	}

	log.Info("starting embedded etcd", "dir", filepath.Join(cfg.DataDir, "etcd"))
	if err := l.startEtcd(ctx); err != nil {
		return nil, err
	}

	for i := 0; i < cfg.ControlPlanes; i++ {
		if err := l.startControlPlane(i); err != nil {
			return nil, err
		}
	}
	for i, id := range []string{"web", "web-b"} {
		if err := l.startOrigin(id, cfg.addr(1931+i), nil); err != nil {
			return nil, err
		}
	}
	if err := l.startOrigin(S3OriginID, cfg.addr(1933), []string{S3Bucket}); err != nil {
		return nil, err
	}
	if err := l.startRECs(); err != nil {
		return nil, err
	}
	n := 0
	for _, region := range cfg.Regions {
		pops := cfg.Topology.PoPs(region)
		for j := 0; j < cfg.NodesPerRegion; j++ {
			pop := region
			if len(pops) > 0 {
				pop = pops[j%len(pops)]
			}
			id := fmt.Sprintf("edge-%s-%d", region, j+1)
			if err := l.startEdge(EdgeEndpoint{ID: id, Region: region, PoP: pop}, cfg.addr(1011+n)); err != nil {
				return nil, err
			}
			n++
		}
	}
	if err := l.startGateway(cfg.addr(1010)); err != nil {
		return nil, err
	}
	fctx, fcancel := context.WithCancel(context.Background())
	l.faultCancel, l.faultDone = fcancel, make(chan struct{})
	go func() {
		defer close(l.faultDone)
		if err := l.RunFaults(fctx); err != nil {
			log.Warn("fault follower stopped", "err", err)
		}
	}()
	conn, err := grpc.NewClient(l.cps[0].addr, l.trust.adminDial()...)
	if err != nil {
		return nil, fmt.Errorf("lab: dialing control plane: %w", err)
	}
	l.conn = conn
	if !cfg.SkipSample {
		if err := l.deploySample(ctx); err != nil {
			return nil, err
		}
	}
	if err := l.writeEndpoints(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Lab) startControlPlane(i int) error {
	id := fmt.Sprintf("cp%d", i+1)
	addr := l.cfg.addr(i)
	metrics := l.cfg.addr(10 + i)
	l.mu.Lock()
	for _, c := range l.cps {
		if c.id == id {
			addr = c.addr // restart on the same address
		}
	}
	l.mu.Unlock()
	cpCfg := controlplane.Config{
		ListenAddr:        addr,
		MetricsAddr:       metrics,
		EtcdEndpoints:     l.etcdEPs,
		ID:                id,
		Logger:            l.cfg.Logger.With("component", id),
		Topology:          l.cfg.Topology,
		DelayProfile:      l.cfg.Profile,
		MemoryCgroup:      l.cfg.MemoryCgroup,
		EdgeMetrics:       edgeGatherer{l},
		DashboardReplicas: l.dashboards,
	}
	l.trust.controlPlane(&cpCfg)
	srv, err := controlplane.New(cpCfg)
	if err != nil {
		return fmt.Errorf("lab: control plane %s: %w", id, err)
	}
	ctx, cancel := context.WithCancel(l.ctx)
	h := &cpHandle{id: id, addr: srv.Addr(), srv: srv, cancel: cancel, done: make(chan struct{})}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer close(h.done)
		if err := srv.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			l.cfg.Logger.Error("control plane stopped", "id", id, "err", err)
		}
	}()
	l.mu.Lock()
	replaced := false
	for k, c := range l.cps {
		if c.id == id {
			l.cps[k] = h
			replaced = true
		}
	}
	if !replaced {
		l.cps = append(l.cps, h)
	}
	l.mu.Unlock()
	return nil
}

// startOrigin runs a sample origin; with buckets, in S3 mode serving them.
func (l *Lab) startOrigin(id, addr string, buckets []string) error {
	srv, err := origin.New(origin.Config{ListenAddr: addr, ID: id, S3Buckets: buckets, AdminToken: l.trust.adminToken, Logger: l.cfg.Logger.With("component", "origin-"+id)})
	if err != nil {
		return fmt.Errorf("lab: origin %s: %w", id, err)
	}
	ctx, cancel := context.WithCancel(l.ctx)
	h := &originHandle{id: id, srv: srv, cancel: cancel, done: make(chan struct{})}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer close(h.done)
		if err := srv.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			l.cfg.Logger.Error("origin stopped", "id", id, "err", err)
		}
	}()
	l.mu.Lock()
	l.origins = append(l.origins, h)
	l.mu.Unlock()
	return nil
}

func (l *Lab) cpAddrs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, len(l.cps))
	for i, c := range l.cps {
		out[i] = c.addr
	}
	return out
}

func (l *Lab) startEdge(info EdgeEndpoint, addr string) error {
	reg := prometheus.NewRegistry()
	proc, err := edgenode.NewProcess(edgenode.ProcessConfig{
		Node: edgenode.Config{
			ListenAddr:         addr,
			NodeID:             info.ID,
			Region:             info.Region,
			PoP:                info.PoP,
			CacheBytes:         l.cfg.NodeCacheBytes,
			ViewerLocations:    l.viewers,
			MemoryCgroup:       l.cfg.MemoryCgroup,
			ShareWorkerNetwork: l.cfg.ShareWorkerNetwork,
			Logger:             l.cfg.Logger.With("component", info.ID),
			Registerer:         reg,
			Tier:               l.tierConfig(info),
			Latency:            l.cfg.latency,
		},
		ControlPlanes: l.cpAddrs(),
		StateDir:      filepath.Join(l.cfg.DataDir, "nodes", info.ID),
		AccessLogPath: l.accessLogPath(info),
		Build:         "edgelab-allinone",
		Replica:       replica.Config{DialOptions: l.trust.nodeDial(info.ID, info.Region)},
	})
	if err != nil {
		return fmt.Errorf("lab: edge %s: %w", info.ID, err)
	}
	info.URL = proc.URL()
	ctx, cancel := context.WithCancel(l.ctx)
	h := &edgeHandle{info: info, addr: proc.Node().Addr(), proc: proc, cancel: cancel, done: make(chan struct{}), metrics: reg}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer close(h.done)
		if err := proc.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			l.cfg.Logger.Error("edge stopped", "id", info.ID, "err", err)
		}
	}()
	l.mu.Lock()
	replaced := false
	for k, e := range l.edges {
		if e.info.ID == info.ID {
			h.history = e.history
			l.edges[k] = h
			replaced = true
		}
	}
	if !replaced {
		l.edges = append(l.edges, h)
	}
	l.mu.Unlock()
	return nil
}

func (l *Lab) startGateway(addr string) error {
	l.mu.Lock()
	var edges []gateway.Edge
	for _, e := range l.edges {
		if e.info.isREC() {
			continue
		}
		edges = append(edges, gateway.Edge{ID: e.info.ID, Region: e.info.Region, PoP: e.info.PoP, URL: e.info.URL})
	}
	l.mu.Unlock()
	gw, err := gateway.New(gateway.Config{
		ListenAddr:    addr,
		Topology:      l.cfg.Topology,
		DefaultRegion: l.cfg.Topology.Home(),
		Edges:         edges,
		AddLatency:    l.cfg.latency.On(),
		Latency:       l.cfg.latency,
		Logger:        l.cfg.Logger.With("component", "gateway"),
	})
	if err != nil {
		return fmt.Errorf("lab: gateway: %w", err)
	}
	if err := gw.Start(); err != nil {
		return fmt.Errorf("lab: gateway: %w", err)
	}
	l.gw = gw
	return nil
}

// Endpoints returns the lab's listeners.
func (l *Lab) Endpoints() Endpoints {
	l.mu.Lock()
	defer l.mu.Unlock()
	ep := Endpoints{Profile: l.cfg.Profile, LatencyScale: l.cfg.latency.Scale(), Token: l.token, AdminToken: l.trust.adminToken, CAFile: l.trust.caFile(), Insecure: l.trust.insecure,
		File: l.EndpointsFile()}
	if abs, err := filepath.Abs(ep.File); err == nil {
		ep.File = abs
	}
	for _, c := range l.cps {
		ep.ControlPlanes = append(ep.ControlPlanes, c.addr)
		if ep.Dashboard == "" && c.srv.MetricsAddr() != "" {
			ep.Dashboard = "http://" + c.srv.MetricsAddr() + "/"
		}
	}
	if l.gw != nil {
		ep.Gateway = "http://" + l.gw.Addr().String()
	}
	for _, e := range l.edges {
		if e.info.isREC() {
			ep.RECs = append(ep.RECs, e.info)
			continue
		}
		ep.Edges = append(ep.Edges, e.info)
	}
	sort.Slice(ep.Edges, func(i, j int) bool { return ep.Edges[i].ID < ep.Edges[j].ID })
	for _, o := range l.origins {
		ep.Origins = append(ep.Origins, OriginInfo{ID: o.id, URL: o.srv.URL()})
	}
	return ep
}

// EndpointsFile is where Start writes the endpoints JSON.
func (l *Lab) EndpointsFile() string { return filepath.Join(l.cfg.DataDir, "lab.json") }

func (l *Lab) writeEndpoints() error {
	data, err := json.MarshalIndent(l.Endpoints(), "", "  ")
	if err != nil {
		return err
	}
	tmp := l.EndpointsFile() + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil { // it holds the admin token
		return fmt.Errorf("lab: writing %s: %w", tmp, err)
	}
	return os.Rename(tmp, l.EndpointsFile())
}

// Client returns a ControlPlaneService client on the first replica.
func (l *Lab) Client() edgelabv1.ControlPlaneServiceClient {
	return edgelabv1.NewControlPlaneServiceClient(l.conn)
}

// Close stops every component, waits for them and stops etcd. Safe to call twice.
func (l *Lab) Close() error {
	l.closing.Store(true)
	if l.faultCancel != nil {
		l.faultCancel()
		<-l.faultDone
		l.faultCancel = nil
	}
	l.mu.Lock()
	cps, edges, origins, gw := l.cps, l.edges, l.origins, l.gw
	l.gw = nil
	l.mu.Unlock()
	var errs []error
	if gw != nil {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, gw.Shutdown(sctx))
		c()
	}
	for _, e := range edges {
		e.cancel()
		errs = append(errs, e.proc.Close())
	}
	for _, o := range origins {
		o.cancel()
		errs = append(errs, o.srv.Close())
	}
	for _, c := range cps {
		c.cancel()
		errs = append(errs, c.srv.Close())
	}
	l.cancel()
	l.wg.Wait()
	if l.conn != nil {
		errs = append(errs, l.conn.Close())
		l.conn = nil
	}
	if l.etcdStop != nil {
		l.etcdStop()
		l.etcdStop = nil
	}
	return errors.Join(errs...)
}

// edgeGatherer gathers the metrics of the lab's running edges (a stopped
// edge is left out) for the control planes' dashboards.
type edgeGatherer struct{ l *Lab }

// Gather merges every running edge's registry; the series carry node=<id>.
func (g edgeGatherer) Gather() ([]*dto.MetricFamily, error) {
	g.l.mu.Lock()
	var gs prometheus.Gatherers
	for _, e := range g.l.edges {
		select {
		case <-e.done:
			continue
		default:
		}
		gs = append(gs, e.metrics)
	}
	g.l.mu.Unlock()
	return gs.Gather()
}

// dashboards lists the running control planes' dashboards.
func (l *Lab) dashboards() []dashboard.Replica {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []dashboard.Replica
	for _, c := range l.cps {
		select {
		case <-c.done:
			continue
		default:
		}
		if a := c.srv.MetricsAddr(); a != "" {
			out = append(out, dashboard.Replica{ID: c.id, URL: "http://" + a + "/"})
		}
	}
	return out
}
