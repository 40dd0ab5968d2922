package ctl

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/edgelab/edgelab/eventtype"

	"github.com/spf13/cobra"

	"github.com/edgelab/edgelab/distribution"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

func distributionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "distribution",
		Short: "Apply, inspect and delete distributions",
		Long: `A distribution maps domains and path patterns (behaviors) to origins, cache
policies and function versions. The file format (YAML or JSON) is described
in docs/distribution.md.`,
		Example: `  edgectl distribution apply -f examples/distributions/demo.yaml
  edgectl distribution get demo -o yaml > demo.yaml
  edgectl distribution list
  edgectl distribution delete demo`,
		Aliases: []string{"distributions", "dist"},
	}
	cmd.AddCommand(distApplyCmd(), distGetCmd(), distListCmd(), distDeleteCmd(), distPromoteCmd())
	return cmd
}

func distPromoteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "promote PRIMARY",
		Short: "Copy the staging distribution's configuration onto its primary",
		Long: `promote is CloudFront's UpdateDistributionWithStagingConfig: the primary
distribution takes every setting of the staging distribution its continuous
deployment policy names (origins, behaviors, policies, functions ...) and keeps
its own id and domains. The policy stays, disabled, so the next change can be
staged the same way; the staging distribution is left as it is. The new
configuration replicates like any change (edgectl status PRIMARY --wait).`,
		Example: "  edgectl distribution promote demo\n  edgectl status demo --wait",
		Args:    exactArgs(1, "PRIMARY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, closeFn, err := Client(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			ctx := cmd.Context()
			primary, err := c.GetDistribution(ctx, &edgelabv1.GetDistributionRequest{Id: args[0]})
			if err != nil {
				return err
			}
			sid := primary.GetDistribution().GetContinuousDeployment().GetStagingDistributionId()
			if sid == "" {
				return fmt.Errorf("distribution %s has no continuous deployment policy: nothing to promote", args[0])
			}
			staging, err := c.GetDistribution(ctx, &edgelabv1.GetDistributionRequest{Id: sid})
			if err != nil {
				return fmt.Errorf("staging distribution %s: %w", sid, err)
			}
			promoted, err := distribution.Promote(primary.GetDistribution(), staging.GetDistribution())
			if err != nil {
				return err
			}
			res, err := c.ApplyDistribution(ctx, &edgelabv1.ApplyDistributionRequest{Distribution: promoted})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "promoted %s onto %s (revision %d); its continuous deployment policy is now disabled\n", sid, args[0], res.GetRevision())
			return err
		},
	}
}

func distApplyCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Create or replace a distribution from a YAML or JSON file",
		Long: `Create or replace a distribution. The file is checked locally first (unknown
fields, patterns, origins, "$LATEST"), then by the control plane (the
referenced versions exist and export the entry point for their event type).
Nothing is stored when a check fails. Use -f - to read standard input.`,
		Example: "  edgectl distribution apply -f examples/distributions/demo.yaml\n  cat demo.json | edgectl distribution apply -f -",
		Args:    exactArgs(0, "no arguments (the file is given with -f)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usagef("-f FILE is required")
			}
			var data []byte
			var err error
			if file == "-" {
				data, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 2<<20))
			} else {
				data, err = os.ReadFile(file)
			}
			if err != nil {
				return fmt.Errorf("reading %s: %w", file, err)
			}
			d, err := distribution.Parse(data)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			c, closeFn, err := Client(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			resp, err := c.ApplyDistribution(cmd.Context(), &edgelabv1.ApplyDistributionRequest{Distribution: d})
			if err != nil {
				return err
			}
			if IsJSON(cmd) {
				return PrintJSON(cmd.OutOrStdout(), resp)
			}
			verb := "configured"
			if resp.GetCreated() {
				verb = "created"
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "distribution %s %s (revision %d)\n", d.GetId(), verb, resp.GetRevision())
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "distribution file (YAML or JSON; - for stdin)")
	return cmd
}

func distGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "get ID",
		Short:   "Show a distribution (-o yaml gives a file you can apply again)",
		Example: "  edgectl distribution get demo\n  edgectl distribution get demo -o yaml\n  edgectl distribution get demo -o json",
		Args:    exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, closeFn, err := Client(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			resp, err := c.GetDistribution(cmd.Context(), &edgelabv1.GetDistributionRequest{Id: args[0]})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			d := resp.GetDistribution()
			switch Output(cmd) {
			case "json":
				return PrintJSON(w, resp)
			case "yaml":
				b, err := distribution.ToFile(d)
				if err != nil {
					return err
				}
				_, err = w.Write(b)
				return err
			}
			fmt.Fprintf(w, "ID:        %s\nDomains:   %s\nRevision:  %d\nUpdated:   %s\n", d.GetId(), strings.Join(d.GetDomains(), ", "),
				resp.GetRevision(), d.GetUpdated().AsTime().Format(time.RFC3339))
			if d.GetComment() != "" {
				fmt.Fprintf(w, "Comment:   %s\n", d.GetComment())
			}
			fmt.Fprintln(w)
			tw := NewTable(w)
			fmt.Fprintln(tw, "ORIGIN\tURL / GROUP")
			for _, o := range d.GetOrigins() {
				fmt.Fprintf(tw, "%s\t%s\n", o.GetId(), o.GetUrl())
			}
			for _, g := range d.GetOriginGroups() {
				fmt.Fprintf(tw, "%s\tprimary %s, secondary %s, failover on %v\n", g.GetId(), g.GetPrimary(), g.GetSecondary(), g.GetFailoverStatus())
			}
			tw.Flush()
			fmt.Fprintln(w)
			tw = NewTable(w)
			fmt.Fprintln(tw, "BEHAVIOR\tORIGIN\tTTL (MIN/DEFAULT/MAX)\tFUNCTIONS")
			for _, b := range d.GetBehaviors() {
				c := b.GetCache()
				var fns []string
				for _, a := range b.GetFunctions() {
					f := fmt.Sprintf("%s=%s:%d", eventtype.Name(a.GetEventType()), a.GetFunction(), a.GetVersion())
					if a.GetIncludeBody() {
						f += "+body"
					}
					fns = append(fns, f)
				}
				fnText := strings.Join(fns, ", ")
				if fnText == "" {
					fnText = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s/%s/%s\t%s\n", b.GetPath(), b.GetOrigin(), distribution.FormatDuration(c.GetMinTtl().AsDuration()),
					distribution.FormatDuration(c.GetDefaultTtl().AsDuration()), distribution.FormatDuration(c.GetMaxTtl().AsDuration()), fnText)
			}
			return tw.Flush()
		},
	}
}

func distListCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List distributions",
		Example: "  edgectl distribution list",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, closeFn, err := Client(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			resp, err := c.ListDistributions(cmd.Context(), &edgelabv1.ListDistributionsRequest{})
			if err != nil {
				return err
			}
			if IsJSON(cmd) {
				return PrintJSON(cmd.OutOrStdout(), resp)
			}
			tw := NewTable(cmd.OutOrStdout())
			fmt.Fprintln(tw, "ID\tDOMAINS\tBEHAVIORS\tUPDATED")
			for _, d := range resp.GetDistributions() {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", d.GetId(), strings.Join(d.GetDomains(), ","), len(d.GetBehaviors()),
					d.GetUpdated().AsTime().Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
}

func distDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "delete ID",
		Short:   "Delete a distribution",
		Example: "  edgectl distribution delete demo",
		Args:    exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, closeFn, err := Client(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			if _, err := c.DeleteDistribution(cmd.Context(), &edgelabv1.DeleteDistributionRequest{Id: args[0]}); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "deleted distribution %s\n", args[0])
			return err
		},
	}
}

func invalidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "invalidate DIST PATH...",
		Short: "Purge cached objects matching path patterns on every edge",
		Long: `Create an invalidation. Paths start with "/" and may use * and ? as in
behavior patterns. Quote patterns so the shell does not expand them.`,
		Example: "  edgectl invalidate demo '/api/*' /index.html",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usagef("expected DIST PATH...")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, closeFn, err := Client(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			resp, err := c.CreateInvalidation(cmd.Context(), &edgelabv1.CreateInvalidationRequest{DistributionId: args[0], Paths: args[1:]})
			if err != nil {
				return err
			}
			if IsJSON(cmd) {
				return PrintJSON(cmd.OutOrStdout(), resp)
			}
			inv := resp.GetInvalidation()
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "invalidation %s created for %s (%d paths, revision %d)\n",
				inv.GetId(), inv.GetDistributionId(), len(inv.GetPaths()), inv.GetRevision())
			return err
		},
	}
}

func invokeCmd() *cobra.Command {
	var eventFile, eventType string
	cmd := &cobra.Command{
		Use:   "invoke NAME:VERSION --event FILE",
		Short: "Run a published version once against a CloudFront event JSON",
		Long: `Run a version in the control plane's sandbox with a CloudFront-format event
(Records[0].cf..., the AWS sample events work unchanged). Prints the outcome,
the resulting request or response, duration, cold/warm and the logs.
--type overrides or supplies the event type when the JSON has none.`,
		Example: "  edgectl invoke auth:1 --event cfevent/testdata/viewer-request.json\n  edgectl invoke headers:1 --event resp.json --type origin-response -o json",
		Args:    exactArgs(1, "NAME:VERSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, version, err := ParseRef(args[0])
			if err != nil {
				return err
			}
			if version == 0 {
				return usagef("%q: give a version, NAME:VERSION", args[0])
			}
			if eventFile == "" {
				return usagef("--event FILE is required")
			}
			data, err := os.ReadFile(eventFile)
			if err != nil {
				return fmt.Errorf("reading event: %w", err)
			}
			req := &edgelabv1.InvokeRequest{Function: &edgelabv1.FunctionRef{Name: name, Version: version}, EventJson: data}
			if eventType != "" {
				et, ok := eventtype.Parse(eventType)
				if !ok {
					return usagef("--type %q: want viewer-request, origin-request, origin-response or viewer-response", eventType)
				}
				req.EventType = et
			}
			c, closeFn, err := Client(cmd)
			if err != nil {
				return err
			}
			defer closeFn()
			resp, err := c.Invoke(cmd.Context(), req)
			if err != nil {
				return err
			}
			if IsJSON(cmd) {
				return PrintJSON(cmd.OutOrStdout(), resp)
			}
			w := cmd.OutOrStdout()
			warm := "warm"
			if resp.GetCold() {
				warm = "cold"
			}
			fmt.Fprintf(w, "Outcome:  %s\nDuration: %s (%s)\n", resp.GetOutcome(), resp.GetDuration().AsDuration(), warm)
			if resp.GetError() != "" {
				fmt.Fprintf(w, "Error:    %s\n", resp.GetError())
			}
			if len(resp.GetResultJson()) > 0 {
				fmt.Fprintf(w, "Result:\n%s\n", resp.GetResultJson())
			}
			for _, l := range resp.GetLogs() {
				fmt.Fprintf(w, "log %s %s\n", l.GetTime().AsTime().Format(time.RFC3339Nano), l.GetMessage())
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&eventFile, "event", "", "CloudFront event JSON file (required)")
	cmd.Flags().StringVar(&eventType, "type", "", "event type when the JSON does not give it")
	return cmd
}
