package ctl

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgelab/edgelab/pki"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// accessClient dials and returns an AccessService client.
func accessClient(cmd *cobra.Command) (edgelabv1.AccessServiceClient, func(), error) {
	conn, err := DialCommand(cmd)
	if err != nil {
		return nil, nil, err
	}
	return edgelabv1.NewAccessServiceClient(conn), func() { conn.Close() }, nil
}

func loginCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "login",
		Short: "Save the endpoint and credentials edgectl uses to a config file",
		Long: `login writes the endpoint, token and CA certificate given by flags (or found in
$EDGELAB_* or the lab.json of an all-in-one lab) to the config file
(~/.config/edgelab/config.json, or --config), with mode 0600, and checks them
with a call that needs the viewer role. Later commands read them from there.`,
		Example: `  edgectl login --lab /tmp/lab/lab.json
  edgectl login --endpoint cp1.example:7070 --ca ./pki/ca.crt --token "$TOKEN"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := ResolveProfile(cmd)
			if err != nil {
				return err
			}
			if p.CAFile != "" {
				if p.CAFile, err = filepath.Abs(p.CAFile); err != nil {
					return err
				}
			}
			c, done, err := Client(cmd)
			if err != nil {
				return err
			}
			defer done()
			if _, err := c.ListDistributions(cmd.Context(), &edgelabv1.ListDistributionsRequest{}); err != nil {
				return fmt.Errorf("checking the credentials: %s", Message(err))
			}
			path := configPath(cmd)
			if err := writeConfig(path, p); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "logged in to %s; credentials saved in %s\n", p.Endpoint, path)
			return err
		},
	}
}

func writeConfig(path string, p Profile) error {
	if path == "" {
		return fmt.Errorf("no config directory: give --config")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	b, _ := json.MarshalIndent(p, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	return os.Rename(tmp, path)
}

func tokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke API tokens (admin)",
		Long: `token manages API tokens. Each token has a name and one role:
  admin      everything
  publisher  functions, versions, distributions, invalidations (and reading)
  operator   chaos faults, enrolling and removing nodes (and reading)
  viewer     reading only
The secret is printed once by create; the control plane keeps only its hash.`,
	}
	create := &cobra.Command{
		Use: "create NAME --role ROLE", Short: "Create a token and print its secret once", Args: cobra.ExactArgs(1),
		Example: "  edgectl token create alice --role publisher\n  TOKEN=$(edgectl token create ci --role viewer -o json | jq -r .token)",
		RunE: func(cmd *cobra.Command, args []string) error {
			role, _ := cmd.Flags().GetString("role")
			c, done, err := accessClient(cmd)
			if err != nil {
				return err
			}
			defer done()
			resp, err := c.CreateToken(cmd.Context(), &edgelabv1.CreateTokenRequest{Name: args[0], Role: role})
			if err != nil {
				return err
			}
			if IsJSON(cmd) {
				return PrintJSON(cmd.OutOrStdout(), resp)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), resp.Token)
			return err
		},
	}
	create.Flags().String("role", "viewer", "admin, publisher, operator or viewer")
	list := &cobra.Command{
		Use: "list", Short: "List tokens (names and roles, never secrets)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, done, err := accessClient(cmd)
			if err != nil {
				return err
			}
			defer done()
			resp, err := c.ListTokens(cmd.Context(), &edgelabv1.ListTokensRequest{})
			if err != nil {
				return err
			}
			if IsJSON(cmd) {
				return PrintJSON(cmd.OutOrStdout(), resp)
			}
			w := NewTable(cmd.OutOrStdout())
			fmt.Fprintln(w, "NAME\tROLE\tCREATED\tBY")
			for _, t := range resp.Tokens {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.Name, t.Role, t.Created.AsTime().Format(time.RFC3339), t.CreatedBy)
			}
			return w.Flush()
		},
	}
	revoke := &cobra.Command{
		Use: "revoke NAME", Short: "Revoke a token: calls with it fail from now on", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, done, err := accessClient(cmd)
			if err != nil {
				return err
			}
			defer done()
			_, err = c.RevokeToken(cmd.Context(), &edgelabv1.RevokeTokenRequest{Name: args[0]})
			return err
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func nodeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Enroll and remove edge nodes (operator)",
		Long: `node manages which edge nodes may join. enroll asks the control plane's CA
for a certificate naming the node (spiffe://edgelab/node/<region>/<id>) and
writes it with its key and the CA certificate into --out; start the node with
--pki-dir pointing there. remove refuses every certificate issued to the node
until now: its stream is refused from its next connection on.`,
	}
	enroll := &cobra.Command{
		Use: "enroll NAME --region REGION", Short: "Issue a certificate for a node and write it to --out", Args: cobra.ExactArgs(1),
		Example: "  edgectl node enroll edge-9 --region eu-west-1 --ip 10.0.0.9 --out ./pki",
		RunE: func(cmd *cobra.Command, args []string) error {
			region, _ := cmd.Flags().GetString("region")
			dns, _ := cmd.Flags().GetStringSlice("dns")
			ips, _ := cmd.Flags().GetStringSlice("ip")
			out, _ := cmd.Flags().GetString("out")
			c, done, err := accessClient(cmd)
			if err != nil {
				return err
			}
			defer done()
			resp, err := c.EnrollNode(cmd.Context(), &edgelabv1.EnrollNodeRequest{NodeId: args[0], Region: region, DnsNames: dns, Ips: ips})
			if err != nil {
				return err
			}
			b := pki.Bundle{Dir: out, Name: args[0]}
			if err := b.WritePEM(resp.CertPem, resp.KeyPem, resp.CaPem); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "enrolled %s in %s: %s, %s (valid until %s)\n", args[0], region, b.CertFile(), b.KeyFile(),
				resp.NotAfter.AsTime().Format(time.RFC3339))
			return err
		},
	}
	enroll.Flags().String("region", "", "the node's region (required)")
	enroll.Flags().StringSlice("dns", []string{"localhost"}, "DNS names viewers reach the node at")
	enroll.Flags().StringSlice("ip", []string{"127.0.0.1"}, "IP addresses viewers reach the node at")
	enroll.Flags().String("out", ".", "directory for <name>.crt, <name>.key and ca.crt")
	_ = enroll.MarkFlagRequired("region")
	remove := &cobra.Command{
		Use: "remove NAME", Short: "Refuse the node's certificates from now on", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, done, err := accessClient(cmd)
			if err != nil {
				return err
			}
			defer done()
			_, err = c.RemoveNode(cmd.Context(), &edgelabv1.RemoveNodeRequest{NodeId: args[0]})
			return err
		},
	}
	cmd.AddCommand(enroll, remove)
	return cmd
}

func auditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit log: who changed what, when, and the result (admin)",
		Long: `audit lists the newest mutating calls (publish, apply, delete, invalidate,
chaos, tokens, nodes), oldest first: time, caller (token:<name> or the
certificate's SPIFFE ID), role, method, target and gRPC result code.`,
		Example: "  edgectl audit\n  edgectl audit --limit 20 -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			limit, _ := cmd.Flags().GetInt32("limit")
			c, done, err := accessClient(cmd)
			if err != nil {
				return err
			}
			defer done()
			resp, err := c.ListAudit(cmd.Context(), &edgelabv1.ListAuditRequest{Limit: limit})
			if err != nil {
				return err
			}
			if IsJSON(cmd) {
				return PrintJSON(cmd.OutOrStdout(), resp)
			}
			w := NewTable(cmd.OutOrStdout())
			fmt.Fprintln(w, "TIME	PRINCIPAL	ROLE	METHOD	TARGET	RESULT")
			for _, e := range resp.Entries {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.AsTime().Format(time.RFC3339), e.Principal, e.Role,
					filepath.Base(e.Method), e.Target, e.Code)
			}
			return w.Flush()
		},
	}
	cmd.Flags().Int32("limit", 100, "newest entries to show")
	return cmd
}
