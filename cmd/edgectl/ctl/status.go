package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/distribution"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

func statusCmd() *cobra.Command {
	var (
		wait    bool
		timeout time.Duration
		nodes   bool
	)
	cmd := &cobra.Command{
		Use:   "status [DIST]",
		Short: "Show whether distributions are Deployed, per region and node",
		Long: `status shows each distribution's latest change and its propagation: InProgress
until every live edge node has acked the change's revision, then Deployed; Failed
when a node rejected it (NACK, e.g. a version that does not compile there).
The region table is the propagation timeline: when the first and the last node
of each region acked, counted from the change.

With --wait, status polls until the distribution is Deployed and exits 0, or
exits 1 on Failed or when --timeout passes.`,
		Example: `  edgectl status
  edgectl status demo --nodes
  edgectl status demo --wait --timeout 2m
  edgectl status demo -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, done, err := Client(cmd)
			if err != nil {
				return err
			}
			defer done()
			id := ""
			if len(args) == 1 {
				id = args[0]
			}
			ctx := cmd.Context()
			deadline := time.Now().Add(timeout)
			for {
				st, err := c.GetStatus(ctx, &edgelabv1.GetStatusRequest{DistributionId: id})
				if err != nil {
					return err
				}
				if err := addStagingStatus(ctx, c, id, st); err != nil {
					return err
				}
				state := overallState(st)
				if !wait || state != edgelabv1.DeploymentState_DEPLOYMENT_STATE_IN_PROGRESS || time.Now().After(deadline) {
					if err := printStatus(cmd.OutOrStdout(), cmd, st, nodes); err != nil {
						return err
					}
					if wait {
						switch state {
						case edgelabv1.DeploymentState_DEPLOYMENT_STATE_FAILED:
							return errors.New("deployment failed: a node rejected the change (see the node table: edgectl status --nodes)")
						case edgelabv1.DeploymentState_DEPLOYMENT_STATE_IN_PROGRESS:
							return fmt.Errorf("still InProgress after %s", timeout)
						}
					}
					return nil
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(200 * time.Millisecond):
				}
			}
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "block until Deployed (exit 1 on Failed or timeout)")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long --wait waits")
	cmd.Flags().BoolVar(&nodes, "nodes", false, "also show every node's progress")
	return cmd
}

// addStagingStatus appends, for a primary distribution with a continuous
// deployment policy, its staging distribution's status, so both show.
func addStagingStatus(ctx context.Context, c edgelabv1.ControlPlaneServiceClient, id string, st *edgelabv1.GetStatusResponse) error {
	if id == "" {
		return nil // every distribution is listed already
	}
	d, err := c.GetDistribution(ctx, &edgelabv1.GetDistributionRequest{Id: id})
	if err != nil {
		return err
	}
	sid := d.GetDistribution().GetContinuousDeployment().GetStagingDistributionId()
	if sid == "" {
		return nil
	}
	sst, err := c.GetStatus(ctx, &edgelabv1.GetStatusRequest{DistributionId: sid})
	if err != nil {
		return fmt.Errorf("staging distribution %s: %w", sid, err)
	}
	st.Distributions = append(st.Distributions, sst.GetDistributions()...)
	return nil
}

// overallState is Failed if any distribution failed, else InProgress if any
// is in progress, else Deployed.
func overallState(st *edgelabv1.GetStatusResponse) edgelabv1.DeploymentState {
	out := edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED
	for _, d := range st.GetDistributions() {
		switch d.GetState() {
		case edgelabv1.DeploymentState_DEPLOYMENT_STATE_FAILED:
			return d.GetState()
		case edgelabv1.DeploymentState_DEPLOYMENT_STATE_IN_PROGRESS, edgelabv1.DeploymentState_DEPLOYMENT_STATE_UNSPECIFIED:
			out = edgelabv1.DeploymentState_DEPLOYMENT_STATE_IN_PROGRESS
		}
	}
	return out
}

func printStatus(w io.Writer, cmd *cobra.Command, st *edgelabv1.GetStatusResponse, nodes bool) error {
	if IsJSON(cmd) {
		return PrintJSON(w, st)
	}
	if len(st.GetDistributions()) == 0 {
		fmt.Fprintln(w, "no distributions")
		return nil
	}
	for i, d := range st.GetDistributions() {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s  %s  revision %d  changed %s\n", d.GetDistributionId(), distribution.StateName(d.GetState()), d.GetRevision(), fmtTime(d.GetChanged()))
		t := NewTable(w)
		fmt.Fprintln(t, "  REGION\tTIER\tNODES\tACKED\tFIRST ACK\tLAST ACK\tSTATE")
		for _, r := range d.GetRegions() {
			fmt.Fprintf(t, "  %s\t%s\t%d\t%d\t%s\t%s\t%s\n", r.GetRegion(), tierName(r.GetRole()), r.GetNodes(), r.GetAcked(),
				fmtDur(r.GetFirstAck().AsDuration(), r.GetFirstAck() != nil), fmtDur(r.GetLastAck().AsDuration(), r.GetLastAck() != nil), distribution.StateName(r.GetState()))
		}
		t.Flush()
		if nodes {
			t := NewTable(w)
			fmt.Fprintln(t, "  NODE\tREGION\tTIER\tPOP\tACKED REV\tSENT\tACKED\tSTATE\tERROR")
			for _, n := range d.GetNodes() {
				fmt.Fprintf(t, "  %s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", n.GetNodeId(), n.GetRegion(), tierName(n.GetRole()), n.GetPop(), n.GetAckedRevision(),
					fmtTime(n.GetSent()), fmtTime(n.GetAcked()), distribution.StateName(n.GetState()), oneLine(n.GetError()))
			}
			t.Flush()
		}
	}
	return nil
}

func nodesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "nodes",
		Short: "List edge nodes: region, PoP, applied revision, replica, last seen, health",
		Long: `nodes lists the edge nodes the control plane knows: every node with a live
record (nodes that stop reporting leave after their lease expires). REVISION is
the desired-state revision the node has applied; ATTACHED is the control-plane
replica its replication stream is on.`,
		Example: "  edgectl nodes\n  edgectl nodes -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, done, err := Client(cmd)
			if err != nil {
				return err
			}
			defer done()
			resp, err := c.ListNodes(cmd.Context(), &edgelabv1.ListNodesRequest{})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if IsJSON(cmd) {
				return PrintJSON(w, resp)
			}
			t := NewTable(w)
			fmt.Fprintln(t, "ID\tREGION\tTIER\tPOP\tREVISION\tATTACHED\tCONNECTED\tLAST SEEN\tHEALTH\tURL")
			for _, n := range resp.GetNodes() {
				health := n.GetHealth()
				if health == "" {
					health = "-"
				}
				fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%d\t%s\t%v\t%s\t%s\t%s\n", n.GetId(), n.GetRegion(), tierName(n.GetRole()), n.GetPop(), n.GetAppliedRevision(),
					n.GetAttachedTo(), n.GetConnected(), fmtAgo(n.GetLastSeen()), health, n.GetHttpUrl())
			}
			return t.Flush()
		},
	}
}

func logsCmd() *cobra.Command {
	var (
		region string
		follow bool
		limit  int32
	)
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Show a function's log lines (edge.Log), per region",
		Long: `logs prints the lines a function wrote with edge.Log, from the regional log
store of the nodes that ran it (like /aws/lambda/us-east-1.NAME in the region
where it ran). --follow streams new lines until interrupted.`,
		Example: "  edgectl logs auth\n  edgectl logs auth --region eu-west-1 --follow\n  edgectl logs access   # the PoPs' CloudFront access logs",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, done, err := Client(cmd)
			if err != nil {
				return err
			}
			defer done()
			w := cmd.OutOrStdout()
			resp, err := c.GetLogs(cmd.Context(), &edgelabv1.GetLogsRequest{Function: args[0], Region: region, Limit: limit})
			if err != nil {
				return err
			}
			for _, l := range resp.GetLines() {
				printLogLine(w, cmd, l)
			}
			if !follow {
				return nil
			}
			stream, err := c.StreamLogs(cmd.Context(), &edgelabv1.StreamLogsRequest{Function: args[0], Region: region})
			if err != nil {
				return err
			}
			for {
				m, err := stream.Recv()
				if err != nil {
					if cmd.Context().Err() != nil {
						return nil
					}
					return err
				}
				printLogLine(w, cmd, m.GetLine())
			}
		},
	}
	cmd.Flags().StringVar(&region, "region", "", "only this region")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "stream new lines")
	cmd.Flags().Int32Var(&limit, "limit", 100, "most recent lines to show first")
	cmd.AddCommand(accessLogsCmd())
	return cmd
}

func printLogLine(w io.Writer, cmd *cobra.Command, l *edgelabv1.LogLine) {
	if IsJSON(cmd) {
		_ = PrintJSON(w, l)
		return
	}
	fmt.Fprintf(w, "%s %s %s %s:%d %s %s\n", l.GetTime().AsTime().Format(time.RFC3339Nano), l.GetRegion(), l.GetNode(),
		l.GetFunction(), l.GetVersion(), l.GetRequestId(), oneLine(l.GetMessage()))
}

func fmtTime(t *timestamppb.Timestamp) string {
	if t == nil {
		return "-"
	}
	return t.AsTime().Local().Format("15:04:05.000")
}

func fmtAgo(t *timestamppb.Timestamp) string {
	if t == nil {
		return "-"
	}
	return time.Since(t.AsTime()).Round(time.Millisecond).String() + " ago"
}

func fmtDur(d time.Duration, ok bool) string {
	if !ok {
		return "-"
	}
	return "+" + d.Round(time.Millisecond).String()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	if s == "" {
		return "-"
	}
	return s
}

// tierName is a node's tier as the tables show it: "pop" or "rec" ("-"
// unknown).
func tierName(role string) string {
	if role == "" {
		return "-"
	}
	return role
}
