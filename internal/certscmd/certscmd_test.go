package certscmd

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/edgelab/edgelab/pki"
)

func TestCertsWritesEveryComponentAndKeepsTheCA(t *testing.T) {
	dir := t.TempDir()
	f := certsFlags{dir: dir, controlPlanes: []string{"cp1"}, nodes: []string{"use1-a@us-east-1@edge-use1-a"}, users: []string{"gateway"}, lifetime: 3600e9}
	var out bytes.Buffer
	if err := runCerts(f, &out); err != nil {
		t.Fatal(err)
	}
	want := map[string]pki.Identity{
		"cp1":     {Kind: pki.KindControlPlane, Name: "cp1"},
		"use1-a":  {Kind: pki.KindNode, Region: "us-east-1", Name: "use1-a"},
		"gateway": {Kind: pki.KindUser, Name: "gateway"},
	}
	for name, id := range want {
		b := pki.Bundle{Dir: dir, Name: name}
		c, err := tls.LoadX509KeyPair(b.CertFile(), b.KeyFile())
		if err != nil {
			t.Fatal(err)
		}
		got, err := pki.IdentityOf(c.Leaf)
		if err != nil || got != id {
			t.Fatalf("%s: identity %v (%v), want %v", name, got, err, id)
		}
	}
	node, _ := tls.LoadX509KeyPair(filepath.Join(dir, "use1-a.crt"), filepath.Join(dir, "use1-a.key"))
	if err := node.Leaf.VerifyHostname("edge-use1-a"); err != nil {
		t.Fatalf("node certificate not valid for its compose host: %v", err)
	}
	token, _ := os.ReadFile(filepath.Join(dir, "admin.token"))
	caBefore, _ := os.ReadFile(filepath.Join(dir, pki.CACertFile))
	if err := runCerts(f, &out); err != nil {
		t.Fatal(err)
	}
	token2, _ := os.ReadFile(filepath.Join(dir, "admin.token"))
	caAfter, _ := os.ReadFile(filepath.Join(dir, pki.CACertFile))
	if len(token) == 0 || !bytes.Equal(token, token2) || !bytes.Equal(caBefore, caAfter) {
		t.Fatal("a second run replaced the CA or the admin token")
	}
	if err := runCerts(certsFlags{dir: dir, nodes: []string{"no-region"}, lifetime: 3600e9}, &out); err == nil {
		t.Fatal("a node without a region was accepted")
	}
}

// With --etcd-members, etcd gets a CA of its own: its members and the
// control planes hold certificates from it, a node's certificate does not
// verify against it.
func TestCertsEtcdHasItsOwnCA(t *testing.T) {
	dir := t.TempDir()
	f := certsFlags{dir: dir, controlPlanes: []string{"cp1"}, nodes: []string{"use1-a@us-east-1"}, etcdMembers: []string{"etcd1"}, lifetime: 3600e9}
	var out bytes.Buffer
	if err := runCerts(f, &out); err != nil {
		t.Fatal(err)
	}
	etcdPool, err := pki.LoadPool(filepath.Join(dir, "etcd", pki.CACertFile))
	if err != nil {
		t.Fatal(err)
	}
	verifies := func(b pki.Bundle) error {
		c, err := tls.LoadX509KeyPair(b.CertFile(), b.KeyFile())
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Leaf.Verify(x509.VerifyOptions{Roots: etcdPool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		return err
	}
	member := pki.Bundle{Dir: filepath.Join(dir, "etcd"), Name: "etcd1"}
	if err := verifies(member); err != nil {
		t.Fatalf("etcd member certificate: %v", err)
	}
	m, _ := tls.LoadX509KeyPair(member.CertFile(), member.KeyFile())
	if err := m.Leaf.VerifyHostname("etcd1"); err != nil {
		t.Fatalf("member certificate not valid for its host: %v", err)
	}
	if err := verifies(pki.Bundle{Dir: filepath.Join(dir, "etcd"), Name: "cp1"}); err != nil {
		t.Fatalf("control plane's etcd client certificate: %v", err)
	}
	if err := verifies(pki.Bundle{Dir: dir, Name: "use1-a"}); err == nil {
		t.Fatal("a node's lab certificate verifies against etcd's CA")
	}
	if err := verifies(pki.Bundle{Dir: dir, Name: "cp1"}); err == nil {
		t.Fatal("the control plane's API certificate verifies against etcd's CA")
	}
}

// --k8s-secrets writes one Secret per workload, each holding exactly its
// pods' credentials: a node's Secret holds no control plane's key, etcd's
// member keys are in a Secret of their own.
func TestCertsK8sSecretsOnePerWorkload(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "secrets.yaml")
	f := certsFlags{dir: dir, k8sSecrets: out, k8sNamespace: "lab",
		controlPlanes: []string{"controlplane-0@controlplane-0.controlplane", "controlplane-1@controlplane-1.controlplane"},
		nodes:         []string{"edge-us-east-1-0@us-east-1@edge-us-east-1-0.edgenodes"},
		etcdMembers:   []string{"etcd-0@etcd-0.etcd"}, lifetime: 3600e9}
	var log bytes.Buffer
	if err := runCerts(f, &log); err != nil {
		t.Fatal(err)
	}
	secrets := readSecrets(t, out)
	want := map[string][]string{
		"edgelab-pki-controlplane":      {"admin.token", "ca.crt", "controlplane-0.crt", "controlplane-0.key", "controlplane-1.crt", "controlplane-1.key"},
		"edgelab-pki-edge-us-east-1":    {"ca.crt", "edge-us-east-1-0.crt", "edge-us-east-1-0.key"},
		"edgelab-etcd-pki-etcd":         {"ca.crt", "etcd-0.crt", "etcd-0.key"},
		"edgelab-etcd-pki-controlplane": {"ca.crt", "controlplane-0.crt", "controlplane-0.key", "controlplane-1.crt", "controlplane-1.key"},
	}
	if len(secrets) != len(want) {
		t.Fatalf("got Secrets %v, want %v", slices.Sorted(maps.Keys(secrets)), slices.Sorted(maps.Keys(want)))
	}
	for name, keys := range want {
		s, ok := secrets[name]
		if !ok || s.Metadata.Namespace != "lab" || !slices.Equal(slices.Sorted(maps.Keys(s.Data)), keys) {
			t.Fatalf("Secret %s: %+v, want namespace lab and keys %v", name, s.Metadata, keys)
		}
	}
	// The Secret's files are the ones in --dir, and the node's certificate
	// is valid for the host the others dial.
	node, err := tls.X509KeyPair(secrets["edgelab-pki-edge-us-east-1"].Data["edge-us-east-1-0.crt"], secrets["edgelab-pki-edge-us-east-1"].Data["edge-us-east-1-0.key"])
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Leaf.VerifyHostname("edge-us-east-1-0.edgenodes"); err != nil {
		t.Fatal(err)
	}
	onDisk, _ := os.ReadFile(filepath.Join(dir, "etcd", "etcd-0.key"))
	if !bytes.Equal(onDisk, secrets["edgelab-etcd-pki-etcd"].Data["etcd-0.key"]) {
		t.Fatal("the etcd member's key in its Secret is not the one in --dir/etcd")
	}
}

func readSecrets(t *testing.T, path string) map[string]secret {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]secret{}
	for _, doc := range strings.Split(string(data), "---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var s secret
		if err := yaml.UnmarshalStrict([]byte(doc), &s); err != nil {
			t.Fatal(err)
		}
		got[s.Metadata.Name] = s
	}
	return got
}

func TestCertsRefusesBadHosts(t *testing.T) {
	for _, f := range []certsFlags{
		{controlPlanes: []string{"cp1@"}},
		{controlPlanes: []string{"@host"}},
		{controlPlanes: []string{"cp1"}, etcdMembers: []string{"e@h@x"}},
	} {
		f.dir, f.lifetime = t.TempDir(), 3600e9
		err := runCerts(f, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "want name[@host]") {
			t.Errorf("%+v: got %v, want a name[@host] error", f, err)
		}
	}
}
