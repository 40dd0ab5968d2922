// Command controlplane runs one edgelab control-plane replica: the gRPC API
// over etcd (embedded by default, or --etcd-endpoints).
//
//	controlplane --id cp1 --listen :7070 --metrics-listen :7080 --pki-dir /pki \
//	    --etcd-endpoints etcd1:2379,etcd2:2379,etcd3:2379 --topology topology.yaml
//
// --http-listen is an alias of --metrics-listen (the deployment manifests use it).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/edgelab/edgelab/controlplane"
	"github.com/edgelab/edgelab/controlplane/dashboard"
	"github.com/edgelab/edgelab/pki"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/topology"
)

func main() {
	sandbox.MaybeRunWorker()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "controlplane:", err)
		os.Exit(1)
	}
}

// parseFlags turns the command line into a controlplane.Config.
func parseFlags(args []string, stderr io.Writer) (controlplane.Config, error) {
	var (
		cfg          controlplane.Config
		endpoints    string
		topologyPath string
		edgeMetrics  string
		peers        string
		pkiDir       string
		etcdPKIDir   string
		tokenFile    string
	)
	fs := flag.NewFlagSet("controlplane", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.ListenAddr, "listen", controlplane.DefaultListenAddr, "gRPC listen address")
	fs.StringVar(&cfg.MetricsAddr, "metrics-listen", "", "Prometheus /metrics listen address (empty: off)")
	fs.StringVar(&cfg.MetricsAddr, "http-listen", "", "alias of --metrics-listen")
	fs.StringVar(&endpoints, "etcd-endpoints", "", "comma-separated etcd client URLs (empty: run an embedded etcd)")
	fs.StringVar(&cfg.EtcdDataDir, "data-dir", "edgelab-data", "embedded etcd data directory")
	fs.StringVar(&cfg.MemoryCgroup, "memory-cgroup", "auto", "where the kernel enforces the memory limit of function workers run by Invoke: 'auto' (a memory cgroup per worker when this process may create cgroups, else the RSS watchdog alone), a cgroup directory, or 'off'")
	fs.StringVar(&cfg.KeyPrefix, "key-prefix", "", "etcd key prefix (default /edgelab/)")
	fs.StringVar(&cfg.ID, "id", "", "replica id (default cp-<listen address>)")
	fs.StringVar(&edgeMetrics, "edge-metrics-urls", "", "comma-separated /metrics URLs of the edge nodes, scraped for the dashboard's Traffic and Functions views (empty: those views say no edge metrics are configured)")
	fs.StringVar(&peers, "dashboard-peers", "", "comma-separated id=URL of every replica's dashboard as a browser reaches it (cp1=http://127.0.0.1:7080/,...), for the page to move to when its replica dies (empty: this replica only)")
	fs.StringVar(&topologyPath, "topology", "", "topology file for the replication delay model (default: the built-in topology)")
	fs.StringVar(&cfg.DelayProfile, "profile", "", "delay profile of the topology: default, realistic, instant")
	fs.StringVar(&pkiDir, "pki-dir", "", "directory with ca.crt and this replica's <id>.crt/<id>.key (from `edgelab certs`); with ca.key too, the replica can enroll nodes. Required unless --insecure")
	fs.StringVar(&etcdPKIDir, "etcd-pki-dir", "", "directory with etcd's CA (ca.crt) and this replica's etcd client certificate <id>.crt/<id>.key (from `edgelab certs --etcd-members`, DIR/etcd): connect to --etcd-endpoints over TLS with it (empty: plaintext etcd, with a warning)")
	fs.StringVar(&tokenFile, "admin-token-file", "", "file holding the admin API token to store at start (from `edgelab certs`)")
	fs.BoolVar(&cfg.Insecure, "insecure", false, "serve plaintext gRPC with no authentication (anyone who reaches the port can change everything; for watching the stream in a workshop)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for ep := range strings.SplitSeq(endpoints, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			cfg.EtcdEndpoints = append(cfg.EtcdEndpoints, ep)
		}
	}
	if urls := splitList(edgeMetrics); len(urls) > 0 {
		cfg.EdgeMetrics = dashboard.Scraper{URLs: urls}
	}
	if list := splitList(peers); len(list) > 0 {
		var replicas []dashboard.Replica
		for _, p := range list {
			id, url, ok := strings.Cut(p, "=")
			if !ok || id == "" || !strings.HasPrefix(url, "http") {
				return cfg, fmt.Errorf("--dashboard-peers: %q: want id=http://host:port/", p)
			}
			replicas = append(replicas, dashboard.Replica{ID: id, URL: url})
		}
		cfg.DashboardReplicas = func() []dashboard.Replica { return replicas }
	}
	if topologyPath != "" {
		topo, err := topology.Load(topologyPath)
		if err != nil {
			return cfg, fmt.Errorf("--topology: %w", err)
		}
		cfg.Topology = topo
	}
	if err := loadEtcdTrust(&cfg, etcdPKIDir); err != nil {
		return cfg, err
	}
	return cfg, loadTrust(&cfg, pkiDir, tokenFile)
}

// loadEtcdTrust reads the replica's etcd client certificate and etcd's CA.
func loadEtcdTrust(cfg *controlplane.Config, dir string) error {
	if dir == "" {
		return nil
	}
	if cfg.ID == "" {
		return fmt.Errorf("--id is required with --etcd-pki-dir: it names the certificate <id>.crt")
	}
	b := pki.Bundle{Dir: dir, Name: cfg.ID}
	pool, err := b.Pool()
	if err != nil {
		return fmt.Errorf("--etcd-pki-dir: %w", err)
	}
	src := b.Source()
	if _, err := src.Certificate(); err != nil { // fail at start, not on the first dial
		return fmt.Errorf("--etcd-pki-dir: %w", err)
	}
	cfg.EtcdTLS = pki.ClientTLS(pool, src, "")
	return nil
}

// loadTrust reads the replica's certificate, the CA and the admin token.
func loadTrust(cfg *controlplane.Config, pkiDir, tokenFile string) error {
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return fmt.Errorf("--admin-token-file: %w", err)
		}
		cfg.AdminToken = strings.TrimSpace(string(b))
	}
	switch {
	case cfg.Insecure:
		return nil
	case pkiDir == "":
		return fmt.Errorf("--pki-dir is required (create one with `edgelab certs`), or --insecure for a plaintext lab")
	case cfg.ID == "":
		return fmt.Errorf("--id is required with --pki-dir: it names the certificate <id>.crt")
	}
	var err error
	if cfg.TLS, err = (pki.Bundle{Dir: pkiDir, Name: cfg.ID}).ServerTLS(); err != nil {
		return fmt.Errorf("--pki-dir: %w", err)
	}
	if cfg.CA, err = pki.LoadCA(pkiDir); err != nil {
		return fmt.Errorf("--pki-dir: %w", err)
	}
	return nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	s, err := controlplane.New(cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Run(ctx)
}
