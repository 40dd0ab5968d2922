// Command gateway runs the edgelab viewer gateway: the front door that sends
// each viewer to the nearest healthy edge node by viewer region.
//
//	gateway --listen :8080 --default-region us-east-1 \
//	    --edges use1-a=us-east-1=http://edge-use1:8080,euw1-a=eu-west-1=http://edge-euw1:8080
//	gateway --edges-file lab.json                 # JSON/YAML list of {id, region, pop, url} or {"edges": [...]}
//	gateway --controlplanes cp1:7070,cp2:7070      # discover edges with ListNodes
//
// Viewers name their region with the X-Viewer-Region header or the
// ?viewer-region= query parameter. GET /_gateway/edges shows edges and health.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"sigs.k8s.io/yaml"

	"github.com/edgelab/edgelab/access"
	"github.com/edgelab/edgelab/gateway"
	"github.com/edgelab/edgelab/latency"
	"github.com/edgelab/edgelab/pki"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/topology"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	listen         string
	topologyPath   string
	edges          string
	edgesFile      string
	defaultRegion  string
	controlPlanes  string
	pkiDir         string
	certName       string
	insecure       bool
	discoverEvery  time.Duration
	healthInterval time.Duration
	healthTimeout  time.Duration
	healthPath     string
	addLatency     bool
	latencyModel   string
	logLevel       string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", ":8080", "HTTP listen address for viewers and /_gateway/ admin endpoints")
	fs.StringVar(&o.topologyPath, "topology", "", "topology file (regions and latency matrix); default: the built-in topology")
	fs.StringVar(&o.edges, "edges", "", "static edges: id=region=url[,id=region=url...] (region may be region/PoP)")
	fs.StringVar(&o.edgesFile, "edges-file", "", "JSON or YAML file: a list of {id, region, pop, url} or an object with an \"edges\" list (lab.json)")
	fs.StringVar(&o.defaultRegion, "default-region", "", "viewer region when the request names none (default: the topology's home region)")
	fs.StringVar(&o.controlPlanes, "controlplanes", "", "control-plane gRPC endpoints host:port[,host:port...] to discover edges through ListNodes")
	fs.DurationVar(&o.discoverEvery, "discover-interval", 2*time.Second, "how often to ask the control plane for the node list")
	fs.DurationVar(&o.healthInterval, "health-interval", gateway.DefaultHealthInterval, "active health-check period")
	fs.DurationVar(&o.healthTimeout, "health-timeout", gateway.DefaultHealthTimeout, "timeout of one health check")
	fs.StringVar(&o.healthPath, "health-path", gateway.DefaultHealthPath, "edge health path (200 = healthy)")
	fs.BoolVar(&o.addLatency, "add-latency", false, "sleep the modelled viewer->edge round trip on every request (else only with X-Edgelab-Simulate-Latency: 1)")
	fs.StringVar(&o.latencyModel, "latency-model", "off", "data-plane latency model: off, on or a scale such as 0.5; the viewer->edge round trip is then 2 x latency x scale, on every request")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.pkiDir, "pki-dir", "", "directory with ca.crt and the gateway's certificate (<cert-name>.crt/.key, from `edgelab certs`) for --controlplanes; required with it unless --insecure")
	fs.StringVar(&o.certName, "cert-name", "gateway", "name of the gateway's certificate in --pki-dir")
	fs.BoolVar(&o.insecure, "insecure", false, "reach the control planes in plaintext, unauthenticated (a lab started with --insecure)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	topo := topology.Default()
	if o.topologyPath != "" {
		if topo, err = topology.Load(o.topologyPath); err != nil {
			return fmt.Errorf("loading topology: %w", err)
		}
	}
	if o.defaultRegion == "" {
		o.defaultRegion = topo.Home()
	}
	if !topo.HasRegion(o.defaultRegion) {
		return fmt.Errorf("--default-region %q is not a region of the topology", o.defaultRegion)
	}
	scale, err := latency.ParseScale(o.latencyModel)
	if err != nil {
		return fmt.Errorf("--latency-model: %w", err)
	}
	model, err := latency.New(latency.Config{Topology: topo, Scale: scale})
	if err != nil {
		return fmt.Errorf("--latency-model: %w", err)
	}
	static, err := parseEdges(o.edges)
	if err != nil {
		return fmt.Errorf("--edges: %w", err)
	}
	if o.edgesFile != "" {
		fromFile, err := loadEdgesFile(o.edgesFile)
		if err != nil {
			return fmt.Errorf("--edges-file: %w", err)
		}
		static = append(static, fromFile...)
	}
	if len(static) == 0 && o.controlPlanes == "" {
		return errors.New("no edges: give --edges, --edges-file or --controlplanes")
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	gw, err := gateway.New(gateway.Config{
		ListenAddr:     o.listen,
		Topology:       topo,
		DefaultRegion:  o.defaultRegion,
		Edges:          static,
		HealthInterval: o.healthInterval,
		HealthTimeout:  o.healthTimeout,
		HealthPath:     o.healthPath,
		AddLatency:     o.addLatency || model.On(),
		Latency:        model,
		Logger:         log,
		Registerer:     reg,
	})
	if err != nil {
		return err
	}

	if o.controlPlanes != "" {
		if o.pkiDir == "" && !o.insecure {
			return errors.New("--pki-dir is required with --controlplanes (the gateway trusts only the edges the control plane vouches for over mutual TLS), or --insecure")
		}
		creds, err := access.BundleClient(pki.Bundle{Dir: o.pkiDir, Name: o.certName}, o.insecure)
		if err != nil {
			return fmt.Errorf("--pki-dir: %w", err)
		}
		dialOpts, err := creds.DialOptions()
		if err != nil {
			return err
		}
		var replicas []gateway.NodeLister
		for ep := range strings.SplitSeq(o.controlPlanes, ",") {
			ep = strings.TrimSpace(ep)
			if ep == "" {
				continue
			}
			conn, err := grpc.NewClient(ep, dialOpts...)
			if err != nil {
				return fmt.Errorf("--controlplanes %q: %w", ep, err)
			}
			defer conn.Close()
			replicas = append(replicas, edgelabv1.NewControlPlaneServiceClient(conn))
		}
		dctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			gw.RunDiscovery(dctx, &gateway.ControlPlaneSource{Replicas: replicas}, static, o.discoverEvery)
		}()
		defer func() { cancel(); <-done }()
	}
	return gw.Run(ctx)
}

// parseEdges parses "id=region=url,..."; region may be "region/PoP".
func parseEdges(s string) ([]gateway.Edge, error) {
	var out []gateway.Edge
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.SplitN(item, "=", 3)
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return nil, fmt.Errorf("%q: want id=region=url", item)
		}
		region, pop, _ := strings.Cut(parts[1], "/")
		out = append(out, gateway.Edge{ID: parts[0], Region: region, PoP: pop, URL: parts[2]})
	}
	return out, nil
}

func loadEdgesFile(path string) ([]gateway.Edge, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var list []gateway.Edge
	if err := yaml.Unmarshal(data, &list); err == nil {
		return list, nil
	}
	var obj struct {
		Edges []gateway.Edge `json:"edges"`
	}
	if err := yaml.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return obj.Edges, nil
}
