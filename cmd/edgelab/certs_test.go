package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

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
