package pki_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"
	"github.com/edgelab/edgelab/pki"
)

func TestFileSourceReloadsARenewedCertificate(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	leaf := pki.Leaf{Identity: pki.Identity{Kind: pki.KindNode, Region: "us-east-1", Name: "n1"}, Lifetime: time.Hour}
	b := pki.Bundle{Dir: dir, Name: "n1"}
	first, err := ca.Issue(leaf)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Write(first, ca.CertPEM()); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(b.KeyFile()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	src := b.Source()
	got, err := src.Certificate()
	if err != nil || got.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) != 0 {
		t.Fatalf("first load: %v", err)
	}
	second, err := ca.Issue(leaf)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Write(second, ca.CertPEM()); err != nil {
		t.Fatal(err)
	}
	// Same size, so make the modification time differ for certain.
	later := time.Now().Add(time.Minute)
	os.Chtimes(b.CertFile(), later, later)
	got, err = src.Certificate()
	if err != nil || got.Leaf.SerialNumber.Cmp(second.Leaf.SerialNumber) != 0 {
		t.Fatalf("after renewal the source still presents serial %v (want %v): %v", got.Leaf.SerialNumber, second.Leaf.SerialNumber, err)
	}
	if err := os.WriteFile(b.CertFile(), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err = src.Certificate(); err != nil || got.Leaf.SerialNumber.Cmp(second.Leaf.SerialNumber) != 0 {
		t.Fatalf("a half-written file replaced the valid certificate: %v", err)
	}
	if _, err := pki.NewFileSource(b.CertFile(), b.KeyFile()).Certificate(); err == nil {
		t.Fatal("a fresh source loaded a garbage certificate")
	}
}

// A Renewer writes a certificate at once and a new one (another serial)
// into the same files when the first is due, and stops with its context.
func TestRenewerRewritesTheBundleWhenDue(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := pki.Renewer{CA: ca, Bundle: pki.Bundle{Dir: dir, Name: "etcd"},
		Leaf: pki.Leaf{Identity: pki.Identity{Kind: pki.KindEtcd, Name: "etcd"}, Lifetime: 1500 * time.Millisecond}}
	due, err := r.Write()
	if err != nil {
		t.Fatal(err)
	}
	src := r.Bundle.Source()
	first, err := src.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx, due, func(err error) { t.Errorf("renewal: %v", err) }) }()
	poll.True(t, 10*time.Second, "a renewed certificate in the bundle", func() bool {
		c, err := src.Certificate()
		return err == nil && c.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) != 0
	})
	cancel()
	<-done
}
