// Command controlplane runs one edgelab control-plane replica: the gRPC API
// over etcd (embedded by default, or --etcd-endpoints).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/edgelab/edgelab/controlplane"
	"github.com/edgelab/edgelab/sandbox"
)

func main() {
	sandbox.MaybeRunWorker()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "controlplane:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg controlplane.Config
	var endpoints string
	flag.StringVar(&cfg.ListenAddr, "listen", controlplane.DefaultListenAddr, "gRPC listen address")
	flag.StringVar(&cfg.MetricsAddr, "metrics-listen", "", "Prometheus /metrics listen address (empty: off)")
	flag.StringVar(&endpoints, "etcd-endpoints", "", "comma-separated etcd client URLs (empty: run an embedded etcd)")
	flag.StringVar(&cfg.EtcdDataDir, "data-dir", "edgelab-data", "embedded etcd data directory")
	flag.StringVar(&cfg.KeyPrefix, "key-prefix", "", "etcd key prefix (default /edgelab/)")
	flag.StringVar(&cfg.ID, "id", "", "replica id (default cp-<listen address>)")
	flag.Parse()
	if endpoints != "" {
		cfg.EtcdEndpoints = strings.Split(endpoints, ",")
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := controlplane.New(cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Run(ctx)
}
