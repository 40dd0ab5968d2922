package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgelab/edgelab/access"
	"github.com/edgelab/edgelab/pki"
)

type certsFlags struct {
	dir           string
	controlPlanes []string
	nodes         []string
	users         []string
	lifetime      time.Duration
}

func newCerts(stdout io.Writer) *cobra.Command {
	var f certsFlags
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Create the lab CA and certificates for the separate binaries (compose, k8s)",
		Long: `certs creates (or reuses) a lab CA in --dir and writes a certificate and key for
every named component, plus admin.token, for labs made of separate processes:
start each binary with --pki-dir pointing at the directory (control planes also
with --admin-token-file DIR/admin.token). Each component's certificate names it
as a SPIFFE-style URI SAN and is valid for its name as a DNS name (the compose
service name), localhost and 127.0.0.1. Running it again renews every
certificate; the processes pick the new files up on their next handshake.

Nodes are given as id@region[@host]; host defaults to the id.`,
		Example: `  edgelab certs --dir ./pki --controlplanes cp1,cp2 \
      --nodes use1-a@us-east-1@edge-use1-a,euw1-a@eu-west-1@edge-euw1-a --users gateway,chaos`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCerts(f, stdout) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "dir", "pki", "directory for ca.crt, ca.key (0600), <name>.crt, <name>.key (0600) and admin.token (0600)")
	fl.StringSliceVar(&f.controlPlanes, "controlplanes", nil, "control-plane replica ids")
	fl.StringSliceVar(&f.nodes, "nodes", nil, "edge nodes as id@region[@host]")
	fl.StringSliceVar(&f.users, "users", nil, "tools (gateway, chaos); they get the viewer role, more with a token")
	fl.DurationVar(&f.lifetime, "lifetime", 30*24*time.Hour, "certificate lifetime")
	return cmd
}

func runCerts(f certsFlags, stdout io.Writer) error {
	ca, err := pki.LoadOrCreateCA(f.dir)
	if err != nil {
		return err
	}
	var leaves []pki.Leaf
	for _, id := range f.controlPlanes {
		leaves = append(leaves, componentLeaf(pki.Identity{Kind: pki.KindControlPlane, Name: id}, id, f.lifetime))
	}
	for _, n := range f.nodes {
		parts := strings.Split(n, "@")
		if len(parts) < 2 || len(parts) > 3 {
			return fmt.Errorf("--nodes %q: want id@region[@host]", n)
		}
		host := parts[0]
		if len(parts) == 3 {
			host = parts[2]
		}
		leaves = append(leaves, componentLeaf(pki.Identity{Kind: pki.KindNode, Region: parts[1], Name: parts[0]}, host, f.lifetime))
	}
	for _, u := range f.users {
		leaves = append(leaves, componentLeaf(pki.Identity{Kind: pki.KindUser, Name: u}, u, f.lifetime))
	}
	for _, l := range leaves {
		c, err := ca.Issue(l)
		if err != nil {
			return err
		}
		if err := (pki.Bundle{Dir: f.dir, Name: l.Identity.Name}).Write(c, ca.CertPEM()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-45s %s.crt (until %s)\n", l.Identity, filepath.Join(f.dir, l.Identity.Name), c.Leaf.NotAfter.Format(time.RFC3339))
	}
	return writeAdminToken(filepath.Join(f.dir, "admin.token"), stdout)
}

func componentLeaf(id pki.Identity, host string, life time.Duration) pki.Leaf {
	return pki.Leaf{Identity: id, Lifetime: life, DNSNames: []string{host, "localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}
}

// writeAdminToken creates the admin token once; later runs keep it.
func writeAdminToken(path string, stdout io.Writer) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.WriteFile(path, []byte(access.NewToken()+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing the admin token: %w", err)
	}
	_, err := fmt.Fprintf(stdout, "admin token in %s\n", path)
	return err
}
