// Command edgenode runs one edgelab edge node: the caching reverse proxy and
// trigger pipeline, fed by the control plane (replication) or by local files.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/edgelab/edgelab/edgenode"
	"github.com/edgelab/edgelab/edgenode/replica"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	sandbox.MaybeRunWorker()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "edgenode:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		cfg           edgenode.Config
		metricsAddr   string
		endpoints     string
		stateDir      string
		publicURL     string
		dists, fns    listFlag
		cacheMB       int64
		viewerTimeout time.Duration
		originTimeout time.Duration
	)
	flag.StringVar(&cfg.ListenAddr, "listen", "127.0.0.1:8080", "viewer HTTP address")
	flag.StringVar(&cfg.NodeID, "id", "edge-1", "node id")
	flag.StringVar(&cfg.Region, "region", "us-east-1", "region")
	flag.StringVar(&cfg.PoP, "pop", "", "point of presence (default: region)")
	flag.Int64Var(&cacheMB, "cache-mb", 256, "object cache size in MiB")
	flag.DurationVar(&viewerTimeout, "viewer-timeout", 0, "viewer event timeout (default 5s)")
	flag.DurationVar(&originTimeout, "origin-timeout", 0, "origin event timeout (default 30s)")
	flag.StringVar(&metricsAddr, "metrics-listen", "", "Prometheus /metrics address (empty: off)")
	flag.StringVar(&endpoints, "control-plane", "", "comma-separated control-plane gRPC endpoints (empty: files only)")
	flag.StringVar(&stateDir, "state-dir", "", "directory for the last applied state (static stability)")
	flag.StringVar(&publicURL, "public-url", "", "URL viewers use to reach this node (default http://<listen>)")
	flag.Var(&dists, "distribution", "distribution file to serve without a control plane (repeatable)")
	flag.Var(&fns, "function", "function dir, NAME:VERSION=DIR or DIR (repeatable)")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg.Logger = logger
	cfg.CacheBytes = cacheMB << 20
	cfg.Profile = sandbox.DefaultProfile()
	if viewerTimeout > 0 {
		cfg.Profile.Viewer.Timeout = viewerTimeout
	}
	if originTimeout > 0 {
		cfg.Profile.Origin.Timeout = originTimeout
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg.Registerer = reg

	// The log sink is wired before the replica client exists (it needs the node).
	var client atomic.Pointer[replica.Client]
	cfg.LogSink = func(lines []*edgelabv1.LogLine) {
		if c := client.Load(); c != nil {
			c.SendLogs(lines)
		}
	}
	node, err := edgenode.New(cfg)
	if err != nil {
		return err
	}
	defer node.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if len(dists) > 0 {
		if err := node.LoadFiles(ctx, dists, fns); err != nil {
			return fmt.Errorf("loading files: %w", err)
		}
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return node.Run(ctx) })
	if endpoints != "" {
		if publicURL == "" {
			publicURL = node.URL()
		}
		c, err := replica.New(replica.Config{
			NodeID: cfg.NodeID, Region: cfg.Region, PoP: cfg.PoP, HTTPURL: publicURL, Build: "edgenode",
			Endpoints: strings.Split(endpoints, ","), StateDir: stateDir, Applier: node, Logger: logger,
		})
		if err != nil {
			return err
		}
		client.Store(c)
		g.Go(func() error { return c.Run(ctx) })
	}
	if metricsAddr != "" {
		ln, err := net.Listen("tcp", metricsAddr)
		if err != nil {
			return fmt.Errorf("metrics listen: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		g.Go(func() error {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		g.Go(func() error {
			<-ctx.Done()
			return srv.Close()
		})
	}
	logger.Info("edge node listening", "id", cfg.NodeID, "region", cfg.Region, "url", node.URL())
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
