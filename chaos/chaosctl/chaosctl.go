// Package chaosctl is the `chaos` command tree of edgectl: inject, heal and
// list faults through the control plane's ChaosService, and run scenario
// files against the all-in-one or the compose lab.
//
//	edgectl chaos inject KIND TARGET ──▶ ChaosService.Inject
//	edgectl chaos heal ID | --all     ──▶ ChaosService.Heal
//	edgectl chaos list                ──▶ ChaosService.ListFaults
//	edgectl chaos run FILE            ──▶ chaos.Runner (labapi.Lab + labapi.Faults [+ compose.Docker])
//	edgectl chaos run --random --seed N --duration D ──▶ nemesis.Scenario ──▶ Runner.RunRandom
package chaosctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/edgelab/edgelab/chaos"
	"github.com/edgelab/edgelab/chaos/compose"
	"github.com/edgelab/edgelab/chaos/labapi"
	"github.com/edgelab/edgelab/chaos/nemesis"
	"github.com/edgelab/edgelab/chaos/scenario"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// kindsHelp is the fault catalogue for --help (docs/chaos.md has the details).
const kindsHelp = `Kinds and targets:
  stop, kill, start, pause, unpause   node:<id> controlplane:<id>|@N etcd:<member>|@N origin:<id>
  partition [--direction both|to-node|to-controlplane]             node:<id> region:<name>
  replication-delay --latency D                                    node:<id> region:<name>
  replication-drop [--rate F], replication-duplicate [--rate F]    node:<id> region:<name>
  origin-latency --latency D, origin-errors [--rate F] [--status N], origin-outage   origin:<id>
  health-fail                                                      node:<id> region:<name>
  fetch-latency --latency D, fetch-errors [--rate F] [--status N]  function:<name>
  tier-latency --latency D, tier-partition                         node:<id> region:<name> (a REC or shield)
A rate of 0 means every message or request. --duration 0 keeps the fault until healed.`

// NewCommand returns the `chaos` command. dial opens a connection to a
// control plane (ChaosService and ControlPlaneService); the caller owns
// nothing: each command closes its connection. out receives the output.
func NewCommand(dial func() (*grpc.ClientConn, error), out io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "chaos",
		Short: "Inject and heal faults, run chaos scenarios",
		Long: `chaos breaks the lab on purpose: every fault is stored by the control plane
(etcd), has a duration or stays until healed, and acts wherever it applies
(replication streams, origins, edge health, lab processes).

` + kindsHelp,
		Example: `  edgectl chaos inject partition region:ap-northeast-1 --duration 30s
  edgectl chaos inject origin-errors origin:web --rate 0.5 --status 502
  edgectl chaos list
  edgectl chaos heal --all
  edgectl chaos run deploy/scenarios/edge-kill-under-load.yaml -o json --report build/chaos/edge-kill.json`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(injectCmd(dial, out), healCmd(dial, out), listCmd(dial, out), runCmd(dial, out),
		containerCmd(out, func(project string) *compose.Docker { return compose.New(compose.Config{Project: project}) }))
	return root
}

// Message is the text of err for people: a gRPC status's message alone.
func Message(err error) string {
	if s, ok := status.FromError(err); ok {
		return s.Message()
	}
	return err.Error()
}

func chaosClient(dial func() (*grpc.ClientConn, error)) (edgelabv1.ChaosServiceClient, func(), error) {
	conn, err := dial()
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to the control plane: %w", err)
	}
	return edgelabv1.NewChaosServiceClient(conn), func() { _ = conn.Close() }, nil
}

func outputFlag(cmd *cobra.Command) string {
	o, _ := cmd.Flags().GetString("output")
	return o
}

func addOutput(cmd *cobra.Command) {
	cmd.Flags().StringP("output", "o", "table", "output format: table or json")
}

func checkOutput(cmd *cobra.Command) error {
	switch o := outputFlag(cmd); o {
	case "table", "json":
		return nil
	default:
		return fmt.Errorf("--output %q: want table or json", o)
	}
}

func printJSON(out io.Writer, faults []*edgelabv1.Fault) error {
	var parts []json.RawMessage
	for _, f := range faults {
		b, err := protojson.Marshal(f)
		if err != nil {
			return err
		}
		parts = append(parts, b)
	}
	if parts == nil {
		parts = []json.RawMessage{}
	}
	b, err := json.MarshalIndent(parts, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, string(b))
	return err
}

func printTable(out io.Writer, faults []*edgelabv1.Fault) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tTARGET\tPARAMS\tEXPIRES")
	for _, f := range faults {
		var params []string
		if f.GetDirection() != "" {
			params = append(params, "direction="+f.GetDirection())
		}
		if f.GetLatency().AsDuration() > 0 {
			params = append(params, "latency="+f.GetLatency().AsDuration().String())
		}
		if f.GetRate() > 0 {
			params = append(params, fmt.Sprintf("rate=%g", f.GetRate()))
		}
		if f.GetStatus() != 0 {
			params = append(params, fmt.Sprintf("status=%d", f.GetStatus()))
		}
		expires := "until healed"
		if f.GetExpires() != nil {
			expires = f.GetExpires().AsTime().Local().Format(time.TimeOnly)
		}
		p := strings.Join(params, " ")
		if p == "" {
			p = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.GetId(), f.GetKind(), f.GetTarget(), p, expires)
	}
	return tw.Flush()
}

func injectCmd(dial func() (*grpc.ClientConn, error), out io.Writer) *cobra.Command {
	var duration, latency time.Duration
	var rate float64
	var statusCode int32
	var direction, id string
	cmd := &cobra.Command{
		Use:   "inject KIND TARGET",
		Short: "Inject a fault",
		Long:  "Inject a fault and print it (with its id, for heal).\n\n" + kindsHelp,
		Example: `  edgectl chaos inject kill node:edge-us-east-1-1
  edgectl chaos inject partition region:eu-west-1 --direction to-node --duration 1m
  edgectl chaos inject replication-delay region:sa-east-1 --latency 2s
  edgectl chaos inject health-fail node:edge-eu-west-1-1 --duration 20s`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(cmd); err != nil {
				return err
			}
			f := &edgelabv1.Fault{Id: id, Kind: args[0], Target: args[1], Direction: direction, Rate: rate, Status: statusCode}
			if cmd.Flags().Changed("latency") {
				f.Latency = durationpb.New(latency)
			}
			if duration != 0 {
				f.Duration = durationpb.New(duration)
			}
			c, closeConn, err := chaosClient(dial)
			if err != nil {
				return err
			}
			defer closeConn()
			resp, err := c.Inject(cmd.Context(), &edgelabv1.InjectRequest{Fault: f})
			if err != nil {
				return fmt.Errorf("injecting %s on %s: %s", args[0], args[1], Message(err))
			}
			if outputFlag(cmd) == "json" {
				return printJSON(out, []*edgelabv1.Fault{resp.GetFault()})
			}
			return printTable(out, []*edgelabv1.Fault{resp.GetFault()})
		},
	}
	cmd.Flags().DurationVar(&duration, "duration", 0, "how long the fault lasts (0 = until healed)")
	cmd.Flags().DurationVar(&latency, "latency", 0, "added latency (replication-delay, origin-latency, fetch-latency, tier-latency)")
	cmd.Flags().Float64Var(&rate, "rate", 0, "fraction 0..1 of messages or requests affected (0 = all)")
	cmd.Flags().Int32Var(&statusCode, "status", 0, "HTTP status of injected errors (default 503)")
	cmd.Flags().StringVar(&direction, "direction", "", "partition direction: both (default), to-node, to-controlplane")
	cmd.Flags().StringVar(&id, "id", "", "fault id (default: generated)")
	addOutput(cmd)
	return cmd
}

func healCmd(dial func() (*grpc.ClientConn, error), out io.Writer) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "heal ID | --all",
		Short: "Heal a fault, or every fault",
		Example: `  edgectl chaos heal partition-3fa9c1d2
  edgectl chaos heal --all`,
		Args: func(cmd *cobra.Command, args []string) error {
			if all != (len(args) == 0) || len(args) > 1 {
				return errors.New("give one fault id or --all")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, closeConn, err := chaosClient(dial)
			if err != nil {
				return err
			}
			defer closeConn()
			req := &edgelabv1.HealRequest{All: all}
			if !all {
				req.Id = args[0]
			}
			resp, err := c.Heal(cmd.Context(), req)
			if err != nil {
				return fmt.Errorf("healing: %s", Message(err))
			}
			if len(resp.GetHealed()) == 0 {
				fmt.Fprintln(out, "no faults to heal")
			}
			for _, id := range resp.GetHealed() {
				fmt.Fprintln(out, "healed", id)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "heal every fault")
	return cmd
}

func listCmd(dial func() (*grpc.ClientConn, error), out io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the active faults",
		Example: `  edgectl chaos list -o json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(cmd); err != nil {
				return err
			}
			c, closeConn, err := chaosClient(dial)
			if err != nil {
				return err
			}
			defer closeConn()
			resp, err := c.ListFaults(cmd.Context(), &edgelabv1.ListFaultsRequest{})
			if err != nil {
				return fmt.Errorf("listing faults: %s", Message(err))
			}
			if outputFlag(cmd) == "json" {
				return printJSON(out, resp.GetFaults())
			}
			return printTable(out, resp.GetFaults())
		},
	}
	addOutput(cmd)
	return cmd
}

// ErrScenarioFailed is returned by `chaos run` when an invariant or a step failed.
var ErrScenarioFailed = errors.New("scenario failed")

// runFlags are the flags of `chaos run`.
type runFlags struct {
	labKind, labFile, reportFile, htmlFile, project string
	verbose, random                                 bool
	seed                                            int64
	duration                                        time.Duration
	shrink                                          int
}

func runCmd(dial func() (*grpc.ClientConn, error), out io.Writer) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run FILE | --random --seed N --duration D",
		Short: "Run a chaos scenario (or a seeded random one) and check its invariants",
		Long: `run executes a scenario file (docs/chaos.md): setup steps, then timed faults
and publishes under background load through the gateway, then it heals what
is left, waits for convergence and checks the invariants. It prints a report
(-o json for CI), writes --report (JSON) and --html (a self-contained page
with the timeline), and exits non-zero when a step or an invariant failed.

With --random it draws the schedule from a weighted menu of faults and
operations instead (package chaos/nemesis): the same --seed gives the same
schedule. A failing random run prints the seed and replays ever shorter
prefixes of its schedule (at most --shrink runs) to find a short one that
still fails.

The lab's gateway and profile come from --lab-file: lab.json written by
'edgelab up' (default), or a file of the same shape for the compose lab.
With --lab compose, stop/kill/start/pause/unpause act on containers (docker).`,
		Example: `  edgectl chaos run deploy/scenarios/region-partition-publish.yaml --html build/reports/partition.html
  edgectl chaos run --random --seed 42 --duration 5m --html build/reports/random-42.html
  edgectl chaos run deploy/scenarios/edge-kill-under-load.yaml --lab compose --lab-file deploy/compose-lab.json -o json --report build/chaos/edge-kill.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if f.random != (len(args) == 0) || len(args) > 1 {
				return errors.New("give one scenario FILE, or --random (with --seed and --duration)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(cmd); err != nil {
				return err
			}
			return f.run(cmd, dial, out, args)
		},
	}
	cmd.Flags().StringVar(&f.labKind, "lab", labapi.KindAllInOne, "lab kind: allinone or compose")
	cmd.Flags().StringVar(&f.labFile, "lab-file", ".edgelab/lab.json", "endpoints file of the lab")
	cmd.Flags().StringVar(&f.reportFile, "report", "", "also write the JSON report to this file")
	cmd.Flags().StringVar(&f.htmlFile, "html", "", "also write the HTML report (self-contained) to this file")
	cmd.Flags().StringVar(&f.project, "compose-project", "", "compose project name (compose lab; default: any)")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "log steps to stderr")
	cmd.Flags().BoolVar(&f.random, "random", false, "run a seeded random schedule instead of a file")
	cmd.Flags().Int64Var(&f.seed, "seed", 0, "seed of the random schedule (--random; 0 = from the clock, printed)")
	cmd.Flags().DurationVar(&f.duration, "duration", 2*time.Minute, "length of the random run (--random)")
	cmd.Flags().IntVar(&f.shrink, "shrink", 3, "replays to find a shorter failing prefix of a failed random run (0 = none)")
	addOutput(cmd)
	return cmd
}

// run carries out `chaos run` once the flags are parsed.
func (f *runFlags) run(cmd *cobra.Command, dial func() (*grpc.ClientConn, error), out io.Writer, args []string) error {
	var sc *scenario.Scenario
	if !f.random {
		var err error
		if sc, err = scenario.ParseFile(args[0]); err != nil {
			return err
		}
	}
	eps, err := labapi.LoadEndpoints(f.labFile)
	if err != nil {
		return fmt.Errorf("%w (start the lab with 'edgelab up', or pass --lab-file)", err)
	}
	conn, closeConn, err := labConn(dial, eps)
	if err != nil {
		return err
	}
	defer closeConn()
	lab, err := labapi.New(labapi.Config{Kind: f.labKind, Conn: conn, Endpoints: eps})
	if err != nil {
		return err
	}
	fc := labapi.FaultsConfig{Conn: conn}
	if f.labKind == labapi.KindCompose {
		fc.Containers = compose.New(compose.Config{Project: f.project})
	}
	faults, err := labapi.NewFaults(fc)
	if err != nil {
		return err
	}
	defer faults.Close()
	logger := slog.New(slog.DiscardHandler)
	if f.verbose {
		logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	}
	runner, err := chaos.NewRunner(chaos.Config{Lab: lab, Faults: faults, Logger: logger})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(cmd.Context())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = lab.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()
	var rep *chaos.Report
	if f.random {
		rep, err = f.runRandom(ctx, cmd, runner, lab)
	} else {
		rep, err = f.runFile(ctx, runner, sc, args[0])
	}
	if err != nil {
		return err
	}
	return f.write(out, cmd, rep)
}

func labConn(dial func() (*grpc.ClientConn, error), eps labapi.Endpoints) (grpc.ClientConnInterface, func(), error) {
	if len(eps.ControlPlanes) > 0 {
		// Every replica of the lab: a scenario may kill the one in use.
		opts, err := eps.DialOptions()
		if err != nil {
			return nil, nil, err
		}
		fc, err := labapi.DialFailover(eps.ControlPlanes, opts...)
		if err != nil {
			return nil, nil, err
		}
		return fc, func() { fc.Close() }, nil
	}
	c, err := dial()
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to the control plane: %w", err)
	}
	return c, func() { _ = c.Close() }, nil
}

func (f *runFlags) runFile(ctx context.Context, runner *chaos.Runner, sc *scenario.Scenario, path string) (*chaos.Report, error) {
	rep, err := runner.Run(ctx, sc)
	if err != nil {
		return nil, err
	}
	rep.Command = "edgectl chaos run " + path + " --lab " + f.labKind
	return rep, nil
}

func (f *runFlags) runRandom(ctx context.Context, cmd *cobra.Command, runner *chaos.Runner, lab *labapi.Lab) (*chaos.Report, error) {
	if !cmd.Flags().Changed("seed") || f.seed == 0 {
		f.seed = time.Now().UnixNano()
	}
	nodes, err := lab.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	var regions []string
	for _, n := range nodes {
		if !slices.Contains(regions, n.Region) {
			regions = append(regions, n.Region)
		}
	}
	slices.Sort(regions)
	sc, err := nemesis.Scenario(nemesis.Config{Seed: f.seed, Duration: f.duration, Regions: regions}, "", 0)
	if err != nil {
		return nil, err
	}
	command := fmt.Sprintf("edgectl chaos run --random --seed %d --duration %s --lab %s", f.seed, f.duration, f.labKind)
	fmt.Fprintf(cmd.ErrOrStderr(), "chaos: random run, seed %d (%d steps): %s\n", f.seed, len(sc.Steps), command)
	rr, err := runner.RunRandom(ctx, sc, f.shrink)
	if err != nil && rr == nil {
		return nil, err
	}
	rep := rr.Report
	rep.Seed, rep.Command, rep.Schedule = f.seed, command, nemesis.Lines(sc.Steps)
	if !rep.Passed {
		fmt.Fprintf(cmd.ErrOrStderr(), "chaos: random run FAILED: seed %d; reproduce with: %s\n", f.seed, command)
		if rr.Shortest != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "chaos: a prefix of %d of the %d steps still fails (%d replays):\n  %s\n",
				rr.ShortestSteps, len(sc.Steps), rr.Replays, strings.Join(nemesis.Lines(rr.ShortestSchedule), "\n  "))
		} else {
			fmt.Fprintf(cmd.ErrOrStderr(), "chaos: no shorter failing prefix found (%d replays)\n", rr.Replays)
		}
	}
	return rep, err
}

func (f *runFlags) write(out io.Writer, cmd *cobra.Command, rep *chaos.Report) error {
	if f.reportFile != "" {
		if err := writeFile(f.reportFile, rep.WriteJSON); err != nil {
			return err
		}
	}
	if f.htmlFile != "" {
		if err := writeFile(f.htmlFile, rep.WriteHTML); err != nil {
			return err
		}
	}
	var err error
	if outputFlag(cmd) == "json" {
		err = rep.WriteJSON(out)
	} else {
		err = rep.WriteTable(out)
	}
	if err != nil {
		return err
	}
	if !rep.Passed {
		return fmt.Errorf("%s: %w", rep.Scenario, ErrScenarioFailed)
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing the report %s: %w", path, err)
	}
	return f.Close()
}
