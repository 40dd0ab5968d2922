// Package certscmd is `edgelab certs`: the lab CA and a certificate for
// every component of a lab made of separate processes (the compose lab, the
// k8s manifests), written to a directory and, for Kubernetes, as Secrets.
package certscmd

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
	k8sSecrets    string
	k8sNamespace  string
	controlPlanes []string
	nodes         []string
	users         []string
	etcdMembers   []string
	lifetime      time.Duration
}

// etcdDir is where certs writes etcd's own CA and certificates, under
// --dir: etcd admits only certificates from that CA, which go to the etcd
// members and the control planes, never to nodes or users.
const etcdDir = "etcd"

// New returns the `certs` command; it reports what it wrote to stdout.
func New(stdout io.Writer) *cobra.Command {
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

Nodes are given as id@region[@host], control planes and etcd members as
name[@host]; host (the DNS name the others dial) defaults to the id.

With --etcd-members, a second CA of etcd's own goes to DIR/etcd with a
certificate for every member (server and peer, valid for its name) and an etcd
client certificate for every control plane: run etcd with --cert-file,
--key-file, --trusted-ca-file and --client-cert-auth (and the --peer-*
equivalents) on DIR/etcd/<member>.*, and the control planes with
--etcd-pki-dir DIR/etcd. Nodes and users get no certificate etcd accepts.

With --k8s-secrets FILE, the same credentials also go to FILE as Kubernetes
Secrets (kubectl apply -f FILE), one per workload: a name's trailing -N is a
StatefulSet pod's ordinal, so controlplane-0 and controlplane-1 share the
Secret edgelab-pki-controlplane, which holds ca.crt, each pod's <name>.crt and
<name>.key, and (for control planes) admin.token; etcd's go to
edgelab-etcd-pki-<workload>. deploy/k8s/pki.sh runs it for the manifests.`,
		Example: `  edgelab certs --dir ./pki --controlplanes cp1,cp2 \
      --nodes use1-a@us-east-1@edge-use1-a,euw1-a@eu-west-1@edge-euw1-a --users gateway,chaos \
      --etcd-members etcd1,etcd2,etcd3
  deploy/k8s/pki.sh     # the k8s manifests' Secrets`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCerts(f, stdout) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "dir", "pki", "directory for ca.crt, ca.key (0600), <name>.crt, <name>.key (0600) and admin.token (0600)")
	fl.StringSliceVar(&f.controlPlanes, "controlplanes", nil, "control-plane replicas as id[@host]")
	fl.StringSliceVar(&f.nodes, "nodes", nil, "edge nodes as id@region[@host]")
	fl.StringSliceVar(&f.users, "users", nil, "tools (gateway, chaos); they get the viewer role, more with a token")
	fl.StringSliceVar(&f.etcdMembers, "etcd-members", nil, "etcd members as name[@host]: writes etcd's CA and certificates to DIR/etcd")
	fl.DurationVar(&f.lifetime, "lifetime", 30*24*time.Hour, "certificate lifetime")
	fl.StringVar(&f.k8sSecrets, "k8s-secrets", "", "also write every credential to this file as Kubernetes Secrets (mode 0600)")
	fl.StringVar(&f.k8sNamespace, "k8s-namespace", "edgelab", "namespace of the --k8s-secrets Secrets")
	return cmd
}

func runCerts(f certsFlags, stdout io.Writer) error {
	leaves, err := componentLeaves(f)
	if err != nil {
		return err
	}
	if err := issueAll(f.dir, leaves, stdout); err != nil {
		return err
	}
	var etcd []pki.Leaf
	if len(f.etcdMembers) > 0 {
		if etcd, err = etcdLeaves(f); err != nil {
			return err
		}
		if err := issueAll(filepath.Join(f.dir, etcdDir), etcd, stdout); err != nil {
			return err
		}
	}
	if err := writeAdminToken(filepath.Join(f.dir, adminToken), stdout); err != nil {
		return err
	}
	if f.k8sSecrets == "" {
		return nil
	}
	return writeK8sSecrets(f, leaves, etcd, stdout)
}

// componentLeaves are the lab CA's certificates: control planes, nodes,
// users.
func componentLeaves(f certsFlags) ([]pki.Leaf, error) {
	var leaves []pki.Leaf
	for _, c := range f.controlPlanes {
		id, host, err := nameHost("--controlplanes", c)
		if err != nil {
			return nil, err
		}
		leaves = append(leaves, componentLeaf(pki.Identity{Kind: pki.KindControlPlane, Name: id}, host, f.lifetime))
	}
	for _, n := range f.nodes {
		parts := strings.Split(n, "@")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("--nodes %q: want id@region[@host]", n)
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
	return leaves, nil
}

// etcdLeaves are etcd's CA's certificates: every member, and every control
// plane as etcd's client.
func etcdLeaves(f certsFlags) ([]pki.Leaf, error) {
	var leaves []pki.Leaf
	for _, m := range f.etcdMembers {
		name, host, err := nameHost("--etcd-members", m)
		if err != nil {
			return nil, err
		}
		leaves = append(leaves, componentLeaf(pki.Identity{Kind: pki.KindEtcd, Name: name}, host, f.lifetime))
	}
	for _, c := range f.controlPlanes {
		id, host, err := nameHost("--controlplanes", c)
		if err != nil {
			return nil, err
		}
		leaves = append(leaves, componentLeaf(pki.Identity{Kind: pki.KindControlPlane, Name: id}, host, f.lifetime))
	}
	return leaves, nil
}

// nameHost splits name[@host]; host defaults to name.
func nameHost(flag, s string) (name, host string, err error) {
	name, host, found := strings.Cut(s, "@")
	switch {
	case name == "" || (found && host == "") || strings.Contains(host, "@"):
		return "", "", fmt.Errorf("%s %q: want name[@host]", flag, s)
	case !found:
		host = name
	}
	return name, host, nil
}

// issueAll creates (or reuses) the CA in dir and writes a bundle for each
// leaf there.
func issueAll(dir string, leaves []pki.Leaf, stdout io.Writer) error {
	ca, err := pki.LoadOrCreateCA(dir)
	if err != nil {
		return err
	}
	for _, l := range leaves {
		c, err := ca.Issue(l)
		if err != nil {
			return err
		}
		if err := (pki.Bundle{Dir: dir, Name: l.Identity.Name}).Write(c, ca.CertPEM()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-45s %s.crt (until %s)\n", l.Identity, filepath.Join(dir, l.Identity.Name), c.Leaf.NotAfter.Format(time.RFC3339))
	}
	return nil
}

func componentLeaf(id pki.Identity, host string, life time.Duration) pki.Leaf {
	return pki.Leaf{Identity: id, Lifetime: life, DNSNames: []string{host, "localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}
}

// adminToken is the admin token's file in --dir.
const adminToken = "admin.token"

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
