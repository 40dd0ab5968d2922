package main

import (
	"bytes"
	"crypto/tls"
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
