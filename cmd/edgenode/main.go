// Command edgenode runs one edgelab edge node: the caching reverse proxy and
// trigger pipeline, fed by the control plane (replication) or by local files.
//
//	edgenode --id use1-a --region us-east-1 --pop IAD --listen :8080 \
//	    --public-url http://edge-use1-a:8080 --control-plane cp1:7070,cp2:7070 --state-dir /data/state
//	edgenode --distribution dist.yaml --function auth:1=./auth     # files only, no control plane
//
// Aliases used by the deployment manifests: --controlplanes = --control-plane,
// --advertise-url = --public-url.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/edgelab/edgelab/access"
	"github.com/edgelab/edgelab/edgenode"
	"github.com/edgelab/edgelab/edgenode/replica"
	"github.com/edgelab/edgelab/pki"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/viewerinfo"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// options are the parsed command line.
type options struct {
	process     edgenode.ProcessConfig
	metricsAddr string
	dists, fns  []string
	// workerCPUs is how many CPUs the node leaves to its sandbox workers
	// while any run (cpus.go).
	workerCPUs int
	// pprof serves net/http/pprof on the metrics listener.
	pprof bool
	// viewerLocations is the viewer location file ("": none).
	viewerLocations string
}

func main() {
	sandbox.MaybeRunWorker()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "edgenode:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var (
		o             options
		cfg           = &o.process.Node
		endpoints     string
		dists, fns    listFlag
		cacheMB       int64
		viewerTimeout time.Duration
		originTimeout time.Duration
		isolate       bool
	)
	fs := flag.NewFlagSet("edgenode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.ListenAddr, "listen", "127.0.0.1:8080", "viewer HTTP address")
	fs.StringVar(&cfg.NodeID, "id", "edge-1", "node id")
	fs.StringVar(&cfg.Region, "region", "us-east-1", "region")
	fs.StringVar(&cfg.PoP, "pop", "", "point of presence (default: region)")
	fs.Int64Var(&cacheMB, "cache-mb", 256, "object cache size in MiB")
	fs.DurationVar(&viewerTimeout, "viewer-timeout", 0, "viewer event timeout (default 5s)")
	fs.DurationVar(&originTimeout, "origin-timeout", 0, "origin event timeout (default 30s)")
	fs.StringVar(&o.metricsAddr, "metrics-listen", "", "Prometheus /metrics address (empty: off)")
	fs.StringVar(&endpoints, "control-plane", "", "comma-separated control-plane gRPC endpoints (empty: files and state dir only)")
	fs.StringVar(&endpoints, "controlplanes", "", "alias of --control-plane")
	fs.StringVar(&o.process.StateDir, "state-dir", "", "directory for the last applied state (static stability)")
	fs.StringVar(&o.process.PublicURL, "public-url", "", "URL viewers and the gateway use to reach this node (default http://<listen>)")
	fs.StringVar(&o.process.PublicURL, "advertise-url", "", "alias of --public-url")
	fs.StringVar(&o.process.Build, "build", "edgenode", "build string reported to the control plane")
	fs.StringVar(&o.process.AccessLogPath, "access-log", "", "append a CloudFront standard access log (one line per viewer request) to this file (empty: none)")
	fs.Var(&dists, "distribution", "distribution file to serve without a control plane (repeatable)")
	fs.Var(&fns, "function", "function dir, NAME:VERSION=DIR or DIR (repeatable)")
	fs.StringVar(&o.viewerLocations, "viewer-locations", "", "viewer location file: IP ranges to countries, for CloudFront-Viewer-* headers and geo restriction (empty: viewers are placed in --region)")
	fs.BoolVar(&o.pprof, "pprof", false, "also serve /debug/pprof/ on the metrics listener (needs --metrics-listen)")
	fs.BoolVar(&isolate, "isolate-worker-network", true, "start each function worker in user and network namespaces of its own (no network at all; the node makes its edge.Fetch calls either way); where the platform refuses them, workers share the node's network and the node says so in its log")
	fs.StringVar(&cfg.MemoryCgroup, "memory-cgroup", "auto", "where the kernel enforces each function worker's memory limit: 'auto' (a memory cgroup per worker under this process's own cgroup, when it may create cgroups there; else the RSS watchdog alone, said at startup), a cgroup directory (v1 memory hierarchy, or v2 with the memory controller delegated), or 'off' (the RSS watchdog alone)")
	fs.DurationVar(&cfg.ReadHeaderTimeout, "header-timeout", 0, "time a viewer has to send its request line and headers, else 408 (0: 10s)")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", 0, "idle viewer keep-alive connections are closed after this (0: 120s)")
	fs.IntVar(&cfg.MaxHeaderCount, "max-header-count", 0, "viewer requests with more header lines get 431 (0: 100)")
	fs.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", 0, "viewer request bodies larger than this get 413 (0: 20 GiB, CloudFront's)")
	fs.IntVar(&o.workerCPUs, "worker-cpus", 1, "CPUs left to function workers while any run: the node then uses that many fewer Ps (at least 1); 0 keeps all (ignored when GOMAXPROCS is set)")
	tiers := addTierFlags(fs)
	lat := addLatencyFlags(fs)
	pkiDir := fs.String("pki-dir", "", "directory with ca.crt and this node's <id>.crt/<id>.key (`edgectl node enroll` or `edgelab certs`); required with --control-plane unless --insecure")
	insecure := fs.Bool("insecure", false, "dial the control plane in plaintext, unauthenticated (a lab started with --insecure)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	cfg.ShareWorkerNetwork = !isolate
	var err error
	if cfg.Tier, err = tiers.config(); err != nil {
		return o, err
	}
	if cfg.Latency, err = lat.config(cfg.Tier.Topology, tiers.topology); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if endpoints != "" {
		if *pkiDir == "" && !*insecure {
			return o, errors.New("--pki-dir is required with --control-plane (enroll the node with `edgectl node enroll`), or --insecure for a plaintext lab")
		}
		c, err := access.BundleClient(pki.Bundle{Dir: *pkiDir, Name: cfg.NodeID}, *insecure)
		if err != nil {
			return o, fmt.Errorf("--pki-dir: %w", err)
		}
		if o.process.Replica.DialOptions, err = c.DialOptions(); err != nil {
			return o, err
		}
	}
	if cacheMB <= 0 {
		return o, fmt.Errorf("--cache-mb must be positive, got %d", cacheMB)
	}
	cfg.CacheBytes = cacheMB << 20
	if err := checkListenerLimits(cfg); err != nil {
		return o, err
	}
	cfg.Profile = sandbox.DefaultProfile()
	if viewerTimeout > 0 {
		cfg.Profile.Viewer.Timeout = viewerTimeout
	}
	if originTimeout > 0 {
		cfg.Profile.Origin.Timeout = originTimeout
	}
	for ep := range strings.SplitSeq(endpoints, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			o.process.ControlPlanes = append(o.process.ControlPlanes, ep)
		}
	}
	o.dists, o.fns = dists, fns
	if len(o.fns) > 0 && len(o.dists) == 0 {
		return o, errors.New("--function needs at least one --distribution")
	}
	if o.pprof && o.metricsAddr == "" {
		return o, errors.New("--pprof needs --metrics-listen")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	o.process.Node.Logger = logger
	if o.viewerLocations != "" {
		if o.process.Node.ViewerLocations, err = viewerinfo.Load(o.viewerLocations); err != nil {
			return err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	o.process.Node.Registerer = reg

	if len(o.process.ControlPlanes) == 0 && o.process.StateDir != "" {
		// Without a control plane, edgenode.NewProcess fails when the state
		// dir holds no state yet; a node that never synced starts empty.
		if _, err := replica.LoadState(o.process.StateDir); errors.Is(err, fs.ErrNotExist) {
			logger.Warn("no persisted state yet, starting empty", "state_dir", o.process.StateDir)
			o.process.StateDir = ""
		}
	}
	p, err := edgenode.NewProcess(o.process)
	if err != nil {
		return err
	}
	defer p.Close()
	if len(o.dists) > 0 {
		if err := p.Node().LoadFiles(ctx, o.dists, o.fns); err != nil {
			return fmt.Errorf("loading files: %w", err)
		}
	}

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return p.Run(ctx) })
	if _, set := os.LookupEnv("GOMAXPROCS"); !set && o.workerCPUs > 0 {
		total := runtime.GOMAXPROCS(0)
		g.Go(func() error {
			splitCPUs(ctx, total, o.workerCPUs, p.Node().Workers, setProcs(total), logger)
			return nil
		})
	}
	if o.metricsAddr != "" {
		ln, err := net.Listen("tcp", o.metricsAddr)
		if err != nil {
			return fmt.Errorf("metrics listen: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		if o.pprof {
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		}
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		g.Go(func() error {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("metrics server: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			<-ctx.Done()
			return srv.Close()
		})
	}
	logger.Info("edge node listening", "id", o.process.Node.NodeID, "region", o.process.Node.Region,
		"url", p.URL(), "public_url", o.process.PublicURL, "control_planes", o.process.ControlPlanes)
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// checkListenerLimits refuses negative viewer listener limits (zero takes
// the default), naming the flag.
func checkListenerLimits(cfg *edgenode.Config) error {
	switch {
	case cfg.ReadHeaderTimeout < 0:
		return fmt.Errorf("--header-timeout must not be negative, got %v", cfg.ReadHeaderTimeout)
	case cfg.IdleTimeout < 0:
		return fmt.Errorf("--idle-timeout must not be negative, got %v", cfg.IdleTimeout)
	case cfg.MaxHeaderCount < 0:
		return fmt.Errorf("--max-header-count must not be negative, got %d", cfg.MaxHeaderCount)
	case cfg.MaxBodyBytes < 0:
		return fmt.Errorf("--max-body-bytes must not be negative, got %d", cfg.MaxBodyBytes)
	}
	return nil
}
