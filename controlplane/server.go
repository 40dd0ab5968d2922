package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/edgelab/edgelab/controlplane/dashboard"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/store"
	"github.com/edgelab/edgelab/store/embedded"
)

// Server is one control-plane replica. Its fields are for the files of this
// package (status, nodes, replication wiring); they are set by New and never
// change afterwards.
type Server struct {
	edgelabv1.UnimplementedControlPlaneServiceServer

	// cfg is the configuration with defaults applied.
	cfg Config
	// id names this replica (Config.ID or "cp-<addr>").
	id string
	// log is the server's logger, with attribute "cp"=id.
	log *slog.Logger
	// etcd is the etcd client; it satisfies clientv3.KV, Watcher and Lease.
	etcd *clientv3.Client
	// keys is the etcd key layout under Config.KeyPrefix.
	keys store.Keys
	// store is typed access to functions, versions, distributions, invalidations.
	store *store.Store
	// registry is this server's Prometheus registry (never the global one).
	registry *prometheus.Registry
	// grpc is the gRPC server; other services may be registered before Run.
	grpc *grpc.Server
	// runner runs function versions (Invoke, default Checker).
	runner sandbox.Runner
	// checker compiles code in isolation at create/update.
	checker Checker
	// replicator streams the desired state to edge nodes and serves
	// GetStatus, ListNodes, GetLogs and StreamLogs (see wiring.go).
	replicator *Replicator
	// chaos is the fault API; its FaultSet drives the Replicator's faults.
	chaos *Chaos

	health     *health.Server
	lis        net.Listener
	metricsLis net.Listener
	metricsSrv *http.Server
	dash       *dashboard.Hub // nil without a metrics listener
	embedded   *embedded.Etcd
	manager    *sandbox.Manager // owned runner, nil when Config.Runner was given
	metrics    *serverMetrics
	access     *accessStore
	checkSeq   checkSeq

	closeOnce sync.Once
	closeErr  error
}

var _ edgelabv1.ControlPlaneServiceServer = (*Server)(nil)

// New starts (or dials) etcd, binds the gRPC and metrics listeners and
// registers the services. Nothing is served until Run. On error everything
// started is stopped again.
func New(cfg Config) (_ *Server, err error) {
	cfg.applyDefaults()
	if cfg.TLS == nil && !cfg.Insecure {
		return nil, errNoTLS
	}
	s := &Server{cfg: cfg, keys: store.NewKeys(cfg.KeyPrefix), registry: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := s.connectEtcd(cfg); err != nil {
		return nil, err
	}
	s.lis, err = net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.ListenAddr, err)
	}
	s.id = cfg.ID
	if s.id == "" {
		s.id = "cp-" + s.lis.Addr().String()
	}
	s.log = cfg.Logger.With("cp", s.id)

	if err := s.listenMetrics(cfg); err != nil {
		return nil, err
	}
	s.metrics = newServerMetrics(s.registry)
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if err := s.startRunner(cfg); err != nil {
		return nil, err
	}
	s.chaos, err = NewChaos(ChaosConfig{KV: s.etcd, Watcher: s.etcd, Lease: s.etcd, Keys: s.keys, Logger: s.log.With("part", "chaos"), Origins: cfg.OriginAdmin, OriginToken: cfg.AdminToken})
	if err != nil {
		return nil, fmt.Errorf("starting chaos service: %w", err)
	}
	s.replicator, err = NewReplicator(ReplicatorConfig{KV: s.etcd, Watcher: s.etcd, Lease: s.etcd, Keys: s.keys, ServerID: s.id,
		Topology: cfg.Topology, Profile: cfg.DelayProfile, Logger: s.log, Registerer: s.registry, Faults: s.chaos.Faults(),
		MaxUpdateBytes: cfg.MaxUpdateBytes, TrustHello: cfg.Insecure})
	if err != nil {
		return nil, fmt.Errorf("starting replication: %w", err)
	}

	if err := s.startAccess(cfg); err != nil {
		return nil, err
	}
	s.grpc = grpc.NewServer(s.grpcOptions(cfg)...)
	edgelabv1.RegisterControlPlaneServiceServer(s.grpc, s)
	edgelabv1.RegisterAccessServiceServer(s.grpc, s.access)
	edgelabv1.RegisterReplicationServiceServer(s.grpc, s.replicator)
	edgelabv1.RegisterChaosServiceServer(s.grpc, s.chaos)
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	return s, nil
}

// connectEtcd starts the embedded etcd when no endpoints are configured,
// and connects the client and the store.
func (s *Server) connectEtcd(cfg Config) (err error) {
	endpoints := cfg.EtcdEndpoints
	if len(endpoints) == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		s.embedded, err = embedded.Start(ctx, cfg.EtcdDataDir)
		cancel()
		if err != nil {
			return err
		}
		endpoints = s.embedded.Endpoints()
	}
	if cfg.EtcdTLS == nil && len(cfg.EtcdEndpoints) > 0 {
		cfg.Logger.Warn("etcd connection is plaintext and unauthenticated: anyone who reaches the etcd ports can read and change every function (use TLS with client certificates, see `edgelab certs --etcd-members`)", "endpoints", endpoints)
	}
	s.etcd, err = clientv3.New(clientv3.Config{Endpoints: endpoints, TLS: cfg.EtcdTLS, DialTimeout: 10 * time.Second, Logger: nil})
	if err != nil {
		return fmt.Errorf("connecting to etcd %v: %w", endpoints, err)
	}
	s.store = store.New(s.etcd, s.keys)
	return nil
}

// listenMetrics binds the metrics and dashboard listener, when configured.
func (s *Server) listenMetrics(cfg Config) error {
	if cfg.MetricsAddr == "" {
		return nil
	}
	var err error
	s.metricsLis, err = net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listening on %s for metrics: %w", cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry}))
	dash, err := s.dashboardHandler()
	if err != nil {
		return fmt.Errorf("building the dashboard: %w", err)
	}
	mux.Handle("/", dash)
	s.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return nil
}

// startRunner takes the configured function runner and checker, or starts
// a sandbox manager and checks with it.
func (s *Server) startRunner(cfg Config) (err error) {
	s.runner = cfg.Runner
	if s.runner == nil {
		s.manager, err = sandbox.NewManager(sandbox.ManagerConfig{Profile: cfg.Profile, Logger: s.log, IdleTimeout: time.Minute, MemoryCgroup: cfg.MemoryCgroup,
			IsolateNetwork: true})
		if err != nil {
			return fmt.Errorf("starting the sandbox manager: %w", err)
		}
		s.runner = s.manager
	}
	s.checker = cfg.Checker
	if s.checker == nil {
		s.checker = CheckerFunc(s.runnerCheck)
	}
	return nil
}

// Addr is the gRPC listen address (useful with port 0).
func (s *Server) Addr() string { return s.lis.Addr().String() }

// MetricsAddr is the metrics listen address, or "" when disabled.
func (s *Server) MetricsAddr() string {
	if s.metricsLis == nil {
		return ""
	}
	return s.metricsLis.Addr().String()
}

// ID is this replica's name.
func (s *Server) ID() string { return s.id }

// EtcdEndpoints are the client URLs of the etcd this server uses (the
// embedded member's when it started one), for a second replica.
func (s *Server) EtcdEndpoints() []string {
	if s.embedded != nil {
		return s.embedded.Endpoints()
	}
	return append([]string(nil), s.cfg.EtcdEndpoints...)
}

// GRPCServer returns the gRPC server so that other services (replication,
// chaos) can be registered on the same port. Register before Run.
func (s *Server) GRPCServer() *grpc.Server { return s.grpc }

// Registry returns this server's Prometheus registry.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Etcd returns the etcd client (clientv3.KV, Watcher and Lease).
func (s *Server) Etcd() *clientv3.Client { return s.etcd }

// Store returns the typed etcd access this server uses.
func (s *Server) Store() *store.Store { return s.store }

// Run serves gRPC (and metrics) until ctx is done or a listener fails, then
// stops gracefully. It returns nil after a clean stop.
func (s *Server) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.log.Info("control plane serving", "grpc", s.Addr(), "metrics", s.MetricsAddr(), "etcd", s.EtcdEndpoints())
	g.Go(func() error {
		if err := s.grpc.Serve(s.lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("serving gRPC: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		if err := s.chaos.Run(ctx); err != nil && ctx.Err() == nil {
			return fmt.Errorf("chaos: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		if err := s.replicator.Run(ctx); err != nil && ctx.Err() == nil {
			return fmt.Errorf("replication: %w", err)
		}
		return nil
	})
	if s.dash != nil {
		g.Go(func() error { return s.dash.Run(ctx) })
	}
	if s.metricsSrv != nil {
		g.Go(func() error {
			if err := s.metricsSrv.Serve(s.metricsLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serving metrics: %w", err)
			}
			return nil
		})
	}
	if s.embedded != nil {
		g.Go(func() error {
			select {
			case err := <-s.embedded.Err():
				return fmt.Errorf("embedded etcd: %w", err)
			case <-ctx.Done():
				return nil
			}
		})
	}
	g.Go(func() error {
		<-ctx.Done()
		s.health.Shutdown()
		stopped := make(chan struct{})
		go func() { s.grpc.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			s.grpc.Stop()
			<-stopped
		}
		if s.metricsSrv != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = s.metricsSrv.Shutdown(sctx)
		}
		return nil
	})
	return g.Wait()
}

// Close stops the gRPC server and everything New started (sandbox workers,
// etcd client, embedded etcd). It is safe to call more than once and
// after Run returned.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.grpc != nil {
			s.grpc.Stop()
		}
		if s.lis != nil {
			s.lis.Close()
		}
		if s.metricsSrv != nil {
			s.metricsSrv.Close()
		}
		if s.metricsLis != nil {
			s.metricsLis.Close()
		}
		if s.replicator != nil {
			s.replicator.Close()
		}
		if s.manager != nil {
			s.closeErr = errors.Join(s.closeErr, s.manager.Close())
		}
		if s.etcd != nil {
			s.closeErr = errors.Join(s.closeErr, s.etcd.Close())
		}
		if s.embedded != nil {
			s.embedded.Close()
		}
	})
	return s.closeErr
}

// rpcCtx bounds an RPC's etcd work.
func (s *Server) rpcCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.RequestTimeout)
}

// serverMetrics counts RPCs by method and code.
type serverMetrics struct {
	rpcs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newServerMetrics(reg prometheus.Registerer) *serverMetrics {
	m := &serverMetrics{
		rpcs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edgelab_controlplane_rpcs_total",
			Help: "Control-plane unary RPCs by method and gRPC code."}, []string{"method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "edgelab_controlplane_rpc_duration_seconds",
			Help: "Control-plane unary RPC latency.", Buckets: prometheus.DefBuckets}, []string{"method"}),
	}
	reg.MustRegister(m.rpcs, m.duration)
	return m
}

func (m *serverMetrics) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	m.rpcs.WithLabelValues(info.FullMethod, status.Code(err).String()).Inc()
	m.duration.WithLabelValues(info.FullMethod).Observe(time.Since(start).Seconds())
	return resp, err
}
