// Command edgebench is edgelab's load benchmark driver (`make bench`, see
// scripts/bench.sh and docs/performance.md).
//
//	edgebench run  [flags]   measure every scenario and print the table
//	edgebench node [flags]   a bench-only edge node from files (no control plane)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/edgelab/edgelab/bench"
	"github.com/edgelab/edgelab/edgenode"
	"github.com/edgelab/edgelab/sandbox"
)

func main() {
	sandbox.MaybeRunWorker()
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "edgebench:", err)
		os.Exit(1)
	}
}

const usage = `usage: edgebench run [flags]    (see edgebench run -h)
       edgebench node [flags]   (see edgebench node -h)`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "run":
		return runSuite(ctx, args[1:], stdout, stderr)
	case "node":
		return runNode(ctx, args[1:], stderr)
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
}

func runSuite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg bench.Config
	var markdown string
	fs.StringVar(&cfg.OriginBin, "origin-bin", "", "cmd/origin binary")
	fs.StringVar(&cfg.EdgeBin, "edgenode-bin", "", "cmd/edgenode binary")
	fs.StringVar(&cfg.ABLabels[0], "label-a", "", "name of -edgenode-bin in the A/B table (default: its path)")
	fs.StringVar(&cfg.ABLabels[1], "label-b", "", "name of -edgenode-bin-b in the A/B table (default: its path)")
	fs.StringVar(&cfg.EdgeBinB, "edgenode-bin-b", "", "a second cmd/edgenode binary to compare with -edgenode-bin: scenarios c, d, f, g run on both, side by side in every round, and an A/B table follows")
	fs.StringVar(&cfg.BenchBin, "bench-bin", "", "this binary (default: os.Executable)")
	fs.StringVar(&cfg.SandboxTestBin, "sandbox-test-bin", "", "compiled `go test -c ./sandbox` binary (empty: skip the go benchmarks)")
	fs.StringVar(&cfg.RepoDir, "repo", ".", "repository root")
	fs.StringVar(&cfg.Wrk, "wrk", "", "wrk binary (empty: built-in Go load generator)")
	fs.StringVar(&cfg.Nginx, "nginx", "", "nginx binary (empty: skip the nginx rows)")
	fs.StringVar(&cfg.NginxSkip, "nginx-skip-reason", "nginx not installed", "reason printed when -nginx is empty")
	fs.IntVar(&cfg.Threads, "threads", 2, "wrk threads")
	fs.IntVar(&cfg.Conns, "conns", 64, "concurrent connections")
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "measured time per scenario and round")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "warm-up load before each measurement")
	fs.IntVar(&cfg.Rounds, "rounds", 3, "interleaved rounds per scenario (the table shows the median)")
	fs.StringVar(&cfg.GoBenchTime, "benchtime", "1s", "-test.benchtime for the sandbox benchmarks")
	fs.StringVar(&cfg.Scenarios, "scenarios", bench.ScenarioKeys, "load scenarios to run (letters)")
	fs.StringVar(&cfg.PprofDir, "pprof-dir", "", "run edge scenarios with pprof and save CPU profiles here")
	fs.StringVar(&markdown, "markdown", "", "also write the table as Markdown to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.BenchBin == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("locating own binary: %w", err)
		}
		cfg.BenchBin = exe
	}
	cfg.Log = stderr
	s, err := bench.NewSuite(cfg)
	if err != nil {
		return err
	}
	rep, runErr := s.Run(ctx)
	fmt.Fprintln(stdout)
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	if err := rep.WriteCPU(stdout); err != nil {
		return err
	}
	if err := rep.WriteAB(stdout); err != nil {
		return err
	}
	if markdown != "" {
		f, err := os.Create(markdown)
		if err != nil {
			return fmt.Errorf("markdown: %w", err)
		}
		werr := rep.WriteMarkdown(f)
		if err := errors.Join(werr, f.Close()); err != nil {
			return fmt.Errorf("markdown: %w", err)
		}
	}
	return runErr
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runNode is a bench-only edge node: like cmd/edgenode in file mode, plus a
// hidden -inprocess flag (the sandbox's in-process runner, no isolation;
// scenario e) and -pprof. Not for serving anything but benchmarks.
func runNode(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg        edgenode.Config
		dists, fns listFlag
		inProcess  bool
		interps    int
		pprofAddr  string
	)
	fs.StringVar(&cfg.ListenAddr, "listen", "127.0.0.1:0", "viewer HTTP address")
	fs.StringVar(&cfg.NodeID, "id", "bench", "node id")
	fs.Var(&dists, "distribution", "distribution file (repeatable)")
	fs.Var(&fns, "function", "function dir, NAME:VERSION=DIR or DIR (repeatable)")
	fs.StringVar(&pprofAddr, "pprof", "", "serve net/http/pprof on this address")
	fs.BoolVar(&inProcess, "inprocess", false, "")
	fs.IntVar(&interps, "interpreters", 0, "") // hidden: interpreters per version/worker (0: the runner's default)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: edgebench node [flags]")
		fs.VisitAll(func(f *flag.Flag) {
			if f.Usage != "" { // -inprocess is benchmark-only and hidden
				fmt.Fprintf(stderr, "  -%s\t%s\n", f.Name, f.Usage)
			}
		})
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(dists) == 0 {
		return errors.New("node: at least one -distribution is required")
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg.Logger = logger
	cfg.Profile = sandbox.DefaultProfile()
	switch {
	case inProcess:
		logger.Warn("benchmark-only: functions run in-process without isolation")
		cfg.Runner = sandbox.NewInProcess(sandbox.InProcessConfig{Profile: cfg.Profile, Interpreters: interps})
	case interps > 0:
		m, err := sandbox.NewManager(sandbox.ManagerConfig{Profile: cfg.Profile, Logger: logger, InterpretersPerWorker: interps})
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		defer m.Close()
		cfg.Runner = m
	}
	node, err := edgenode.New(cfg)
	if err != nil {
		return err
	}
	defer node.Close()
	if err := node.LoadFiles(ctx, dists, fns); err != nil {
		return fmt.Errorf("loading files: %w", err)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return node.Run(ctx) })
	if pprofAddr != "" {
		ln, err := net.Listen("tcp", pprofAddr)
		if err != nil {
			return fmt.Errorf("pprof listen: %w", err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		g.Go(func() error {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		g.Go(func() error { <-ctx.Done(); return srv.Close() })
	}
	logger.Info("bench edge node listening", "url", node.URL(), "inprocess", inProcess)
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
