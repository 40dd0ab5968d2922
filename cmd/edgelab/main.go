// Command edgelab runs the all-in-one lab: a whole edge network (embedded
// etcd, control planes, origins, edge nodes in several regions, the viewer
// gateway and a deployed sample distribution) in one process on loopback.
//
//	go run ./cmd/edgelab up
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgelab/edgelab/internal/certscmd"
	"github.com/edgelab/edgelab/lab"
	"github.com/edgelab/edgelab/latency"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/topology"
)

func main() {
	sandbox.MaybeRunWorker()
	if err := newRoot(os.Stdout, os.Stderr).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "edgelab:", err)
		os.Exit(1)
	}
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "edgelab",
		Short:         "A Lambda@Edge + CloudFront testbed in one process",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newUp(stdout, stderr), certscmd.New(stdout))
	return root
}

type upFlags struct {
	dataDir        string
	topologyPath   string
	profile        string
	regions        []string
	nodesPerRegion int
	oneTier        bool
	controlPlanes  int
	basePort       int
	memoryCgroup   string
	isolateNetwork bool
	verbose        bool
	exitWhenReady  bool
	insecure       bool
	latencyModel   string
	fetchRegions   []string
}

func newUp(stdout, stderr io.Writer) *cobra.Command {
	var f upFlags
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the all-in-one lab and print the endpoints and a tour",
		Long: `Start the whole edge network on loopback ports: an embedded etcd, control-plane
replicas, two sample origins (web, web-b), edge nodes in every region of the
topology, the viewer gateway, and a sample distribution "demo" with example
functions (JWT check on /api/*, security headers, a page generated at /hello).

It prints the endpoints and a short tour when the sample distribution is
Deployed, and writes the endpoints as JSON to <data-dir>/lab.json for scripts.
Ctrl-C stops everything (sandbox worker processes included). State (etcd,
each node's last applied state) survives a restart on the same --data-dir.

Security is on by default: the lab creates a certificate authority and an
admin API token in <data-dir>/pki on first start (reused after), every gRPC
connection is mutual TLS with short-lived certificates renewed while the lab
runs, and lab.json (mode 0600) holds the admin token and the CA path, which
edgectl run from the same directory reads by itself. --insecure turns all of
that off.`,
		Example: `  edgelab up
  edgelab up --profile realistic --nodes-per-region 2
  edgelab up --latency-model on --fetch-region auth.example.com=us-east-1
  edgelab up --regions us-east-1,eu-west-1,ap-northeast-1,sa-east-1 --data-dir /tmp/lab`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUp(cmd.Context(), f, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data-dir", ".edgelab", "directory for etcd data, node state and lab.json")
	fl.StringVar(&f.topologyPath, "topology", "", "topology file (default: the built-in deploy/topology/default.yaml)")
	fl.StringVar(&f.profile, "profile", "default", "propagation profile from the topology (default, realistic, instant)")
	fl.StringSliceVar(&f.regions, "regions", nil, "regions that get edge nodes (default: every region of the topology)")
	fl.IntVar(&f.nodesPerRegion, "nodes-per-region", 1, "edge nodes per region")
	fl.BoolVar(&f.oneTier, "one-tier", false, "leave out the regional edge caches: PoPs go to the origin themselves")
	fl.IntVar(&f.controlPlanes, "control-planes", 2, "control-plane replicas")
	fl.IntVar(&f.basePort, "base-port", lab.DefaultBasePort, "first port (control plane); 0 picks free ports")
	fl.BoolVar(&f.isolateNetwork, "isolate-worker-network", true, "start each function worker in user and network namespaces of its own, where the platform allows them (the nodes make the workers' edge.Fetch calls either way); =false shares the node's network")
	fl.StringVar(&f.memoryCgroup, "memory-cgroup", "auto", "where the kernel enforces function workers' memory limits: 'auto' (a memory cgroup per worker when this process may create cgroups, else the RSS watchdog alone), a cgroup directory, or 'off'")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log every component to stderr")
	fl.BoolVar(&f.exitWhenReady, "exit-when-ready", false, "stop as soon as the lab is ready (smoke tests)")
	fl.StringVar(&f.latencyModel, "latency-model", "off", "data-plane latency model: off, on (the topology's one-way latencies) or a scale such as 0.5; every hop (viewer -> PoP, PoP -> REC -> shield -> origin, a function's edge.Fetch) then waits 2 x latency x scale")
	fl.StringSliceVar(&f.fetchRegions, "fetch-region", nil, "HOST[:PORT]=REGION: the region of an edge.Fetch target for --latency-model (repeatable; default: the home region)")
	fl.BoolVar(&f.insecure, "insecure", false, "plaintext gRPC and no authentication anywhere (to watch the replication stream in a workshop; anyone on this host can then change the lab)")
	return cmd
}

func runUp(ctx context.Context, f upFlags, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	topo := topology.Default()
	if f.topologyPath != "" {
		t, err := topology.Load(f.topologyPath)
		if err != nil {
			return err
		}
		topo = t
	}
	scale, err := latency.ParseScale(f.latencyModel)
	if err != nil {
		return fmt.Errorf("--latency-model: %w", err)
	}
	fetch, err := latency.ParseFetchRegions(f.fetchRegions)
	if err != nil {
		return fmt.Errorf("--fetch-region: %w", err)
	}
	fmt.Fprintf(stderr, "edgelab: starting (data dir %s, profile %s)...\n", f.dataDir, f.profile)
	if f.insecure {
		fmt.Fprintln(stderr, "edgelab: WARNING: --insecure: every gRPC connection is plaintext and unauthenticated")
	}
	start := time.Now()
	l, err := lab.Start(ctx, lab.Config{
		DataDir:            f.dataDir,
		Topology:           topo,
		Profile:            f.profile,
		Regions:            f.regions,
		NodesPerRegion:     f.nodesPerRegion,
		OneTier:            f.oneTier,
		ControlPlanes:      f.controlPlanes,
		BasePort:           f.basePort,
		MemoryCgroup:       f.memoryCgroup,
		ShareWorkerNetwork: !f.isolateNetwork,
		Logger:             logger,
		Progress:           stderr,
		Insecure:           f.insecure,
		LatencyScale:       scale,
		FetchRegions:       fetch,
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(stderr, "edgelab: stopping...")
		if err := l.Close(); err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(stderr, "edgelab: stop:", err)
		}
		fmt.Fprintln(stderr, "edgelab: stopped")
	}()
	fmt.Fprint(stdout, lab.Tour(l.Endpoints(), l.EndpointsFile(), time.Since(start)))
	if f.exitWhenReady {
		return nil
	}
	<-ctx.Done()
	return nil
}
