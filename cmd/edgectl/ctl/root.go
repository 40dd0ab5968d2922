// Package ctl is edgectl's command tree (cobra) and the helpers other
// commands share: dialing the control plane (DialFlags/Dial), and table or
// JSON output (Output, PrintJSON, NewTable). Commands written elsewhere
// (status, nodes, logs, chaos) plug in through NewRoot's extra argument or
// Root.AddCommand. Execute runs a command line in-process, which is how the
// tests drive edgectl against a real server.
package ctl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/access"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// DefaultEndpoint is the all-in-one lab's first control plane.
const DefaultEndpoint = "127.0.0.1:7070"

// EndpointEnv is the environment variable that sets the endpoint.
const EndpointEnv = "EDGELAB_ENDPOINT"

// Version is edgectl's version, printed by `edgectl version`.
var Version = "dev"

// dialTimeout bounds trying one endpoint.
const dialTimeout = 5 * time.Second

// Execute runs edgectl with args, writing to stdout and stderr, and returns
// the process exit code: 0 on success, 1 on any error (the server's message
// is printed), 2 on a usage error.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer, extra ...*cobra.Command) int {
	root := NewRoot(extra...)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "Error:", Message(err))
		var u usageError
		if errors.As(err, &u) {
			return 2
		}
		return 1
	}
	return 0
}

// Message returns the text to show for err: the server's message for a gRPC
// status, else the error text.
func Message(err error) string {
	if s, ok := status.FromError(err); ok {
		return s.Message()
	}
	return err.Error()
}

type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// NewRoot builds the edgectl command tree. extra commands (status, nodes,
// logs, chaos ...) are added at the top level.
func NewRoot(extra ...*cobra.Command) *cobra.Command {
	root := &cobra.Command{
		Use:   "edgectl",
		Short: "edgectl drives an edgelab control plane",
		Long: `edgectl manages edge functions and distributions on an edgelab control plane.

A function is a Go package with ViewerRequest/OriginRequest/OriginResponse/
ViewerResponse entry points. You create it (a draft), publish immutable
numbered versions, and associate versions with a distribution's behaviors.

The control plane address comes from --endpoint, else $EDGELAB_ENDPOINT, else
the config file written by 'edgectl login', else the lab.json that 'edgelab up'
writes (` + DefaultLabFile + ` in the current directory), else ` + DefaultEndpoint + `.
Several comma-separated endpoints are tried in order.

Every call is authenticated: edgectl sends an API token (--token,
$EDGELAB_TOKEN, the config file, or the lab's admin token from lab.json) over
TLS verified with the lab CA (--ca, $EDGELAB_CA, the config file or lab.json).
Run from the directory where 'edgelab up' runs, edgectl needs no flags. Roles:
admin (everything), publisher (functions, distributions, invalidations),
operator (chaos, nodes), viewer (read only).`,
		Example: `  edgectl function create auth --source ./examples/jwt-auth
  edgectl function publish auth
  edgectl distribution apply -f examples/distributions/demo.yaml
  edgectl distribution get demo -o yaml`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("endpoint", "", "control plane gRPC address(es), comma-separated (default $"+EndpointEnv+" or "+DefaultEndpoint+")")
	root.PersistentFlags().StringP("output", "o", "table", "output format: table or json (distribution get also: yaml)")
	addCredentialFlags(root)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(functionCmd(), distributionCmd(), invalidateCmd(), invokeCmd(), statusCmd(), nodesCmd(), logsCmd(), versionCmd())
	root.AddCommand(loginCmd(), tokenCmd(), nodeCmd(), auditCmd())
	root.AddCommand(signURLCmd(), signCookiesCmd())
	root.AddCommand(extra...)
	return root
}

// Endpoints returns the endpoints the command should use: --endpoint, else
// $EDGELAB_ENDPOINT, else the config file's, else the lab's (lab.json),
// else DefaultEndpoint.
func Endpoints(cmd *cobra.Command) []string {
	p, _ := ResolveProfile(cmd)
	return splitEndpoints(p.Endpoint)
}

func splitEndpoints(ep string) []string {
	var out []string
	for _, e := range strings.Split(ep, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		out = []string{DefaultEndpoint}
	}
	return out
}

// DialCommand connects with the command's endpoints and credentials
// (ResolveProfile). The caller closes the connection.
func DialCommand(cmd *cobra.Command) (*grpc.ClientConn, error) {
	p, err := ResolveProfile(cmd)
	if err != nil {
		return nil, err
	}
	creds, err := p.AccessClient()
	if err != nil {
		return nil, err
	}
	ctx := cmd.Context()
	if ctx == nil { // a parent command (chaos) whose subcommand runs
		ctx = context.Background()
	}
	return Dial(ctx, splitEndpoints(p.Endpoint), creds)
}

// Dial connects to the first endpoint whose health check answers SERVING.
// The caller closes the connection.
func Dial(ctx context.Context, endpoints []string, creds access.Client) (*grpc.ClientConn, error) {
	opts, err := creds.DialOptions()
	if err != nil {
		return nil, err
	}
	opts = append(opts, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)))
	var errs []error
	for _, ep := range endpoints {
		conn, err := grpc.NewClient(ep, opts...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ep, err))
			continue
		}
		hctx, cancel := context.WithTimeout(ctx, dialTimeout)
		resp, err := healthpb.NewHealthClient(conn).Check(hctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return conn, nil
		}
		conn.Close()
		if err == nil {
			err = fmt.Errorf("not serving (%s)", resp.GetStatus())
		}
		errs = append(errs, fmt.Errorf("%s: %s", ep, Message(err)))
	}
	return nil, fmt.Errorf("no control plane reachable: %w", errors.Join(errs...))
}

// Client dials the command's endpoints and returns a ControlPlaneService
// client and a function to close the connection.
func Client(cmd *cobra.Command) (edgelabv1.ControlPlaneServiceClient, func(), error) {
	conn, err := DialCommand(cmd)
	if err != nil {
		return nil, nil, err
	}
	return edgelabv1.NewControlPlaneServiceClient(conn), func() { conn.Close() }, nil
}

// Output returns the -o value ("table", "json" or "yaml").
func Output(cmd *cobra.Command) string {
	o, _ := cmd.Flags().GetString("output")
	return o
}

// IsJSON reports whether -o json was given.
func IsJSON(cmd *cobra.Command) bool { return Output(cmd) == "json" }

// PrintJSON writes m as indented protojson with a trailing newline.
func PrintJSON(w io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{EmitUnpopulated: false}.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding JSON: %w", err)
	}
	// protojson's whitespace is deliberately unstable; re-indent with
	// encoding/json so scripts and diffs see the same bytes every run.
	var compact, out bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		return fmt.Errorf("encoding JSON: %w", err)
	}
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return fmt.Errorf("encoding JSON: %w", err)
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// NewTable returns a tabwriter for human tables; write tab-separated rows
// and Flush.
func NewTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print edgectl's version",
		Example: "  edgectl version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "edgectl %s\n", Version)
			return err
		},
	}
}
