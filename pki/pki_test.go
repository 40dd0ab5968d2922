package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newCA(t *testing.T) (*CA, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	ca, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatalf("LoadOrCreateCA: %v", err)
	}
	return ca, dir
}

// TestCAReused: the second load finds the same CA; the key is private.
func TestCAReused(t *testing.T) {
	ca, dir := newCA(t)
	again, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Certificate().Equal(ca.Certificate()) || !again.key.Equal(ca.key) {
		t.Fatal("second load made another CA")
	}
	st, err := os.Stat(filepath.Join(dir, CAKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	if c := ca.Certificate(); !c.IsCA || c.NotAfter.Sub(c.NotBefore) < CALifetime {
		t.Fatalf("CA certificate: IsCA %v, valid %v", c.IsCA, c.NotAfter.Sub(c.NotBefore))
	}
}

// TestCABrokenFiles: a lone file or garbage is an error, never a new CA.
func TestCABrokenFiles(t *testing.T) {
	_, dir := newCA(t)
	other, otherDir := newCA(t)
	_ = other
	for name, mutate := range map[string]func(d string){
		"key missing":      func(d string) { os.Remove(filepath.Join(d, CAKeyFile)) },
		"cert missing":     func(d string) { os.Remove(filepath.Join(d, CACertFile)) },
		"cert garbage":     func(d string) { os.WriteFile(filepath.Join(d, CACertFile), []byte("not pem"), 0o644) },
		"another CA's key": func(d string) { copyFile(t, filepath.Join(otherDir, CAKeyFile), filepath.Join(d, CAKeyFile)) },
	} {
		t.Run(name, func(t *testing.T) {
			d := t.TempDir()
			copyFile(t, filepath.Join(dir, CACertFile), filepath.Join(d, CACertFile))
			copyFile(t, filepath.Join(dir, CAKeyFile), filepath.Join(d, CAKeyFile))
			mutate(d)
			if _, err := LoadOrCreateCA(d); err == nil {
				t.Fatal("loaded a broken CA directory")
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestIssueAndIdentity: a node certificate verifies against the CA and
// names exactly the node and region it was issued for.
func TestIssueAndIdentity(t *testing.T) {
	ca, _ := newCA(t)
	id := Identity{Kind: KindNode, Region: "eu-west-1", Name: "edge-eu-west-1-1"}
	c, err := ca.Issue(Leaf{Identity: id, Lifetime: time.Hour, DNSNames: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "localhost", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("verify: %v", err)
	}
	got, err := IdentityOf(c.Leaf)
	if err != nil || got != id {
		t.Fatalf("IdentityOf = %+v, %v; want %+v", got, err, id)
	}
	if s := id.String(); s != "spiffe://edgelab/node/eu-west-1/edge-eu-west-1-1" {
		t.Fatalf("URI %s", s)
	}
	if life := c.Leaf.NotAfter.Sub(time.Now()); life > time.Hour || life < 59*time.Minute {
		t.Fatalf("leaf lives %v, want about 1h", life)
	}
}

// TestHostileIdentities: names that could smuggle another identity or
// escape the path are refused, when issuing and when parsing.
func TestHostileIdentities(t *testing.T) {
	ca, _ := newCA(t)
	for _, id := range []Identity{
		{Kind: KindNode, Region: "eu-west-1", Name: "a/../../controlplane/x"},
		{Kind: KindNode, Region: "", Name: "edge"},
		{Kind: KindNode, Region: "eu west", Name: "edge"},
		{Kind: KindUser, Name: ""},
		{Kind: KindUser, Region: "eu-west-1", Name: "alice"},
		{Kind: "admin", Name: "root"},
		{Kind: KindUser, Name: strings.Repeat("a", 64)},
		{Kind: KindUser, Name: "-leading-dash"},
	} {
		if _, err := ca.Issue(Leaf{Identity: id, Lifetime: time.Hour}); err == nil {
			t.Errorf("issued a certificate for %+v", id)
		}
	}
	for _, s := range []string{
		"spiffe://other/node/eu-west-1/a", "https://edgelab/user/a", "spiffe://edgelab/node/a",
		"spiffe://edgelab/user/a/b", "spiffe://edgelab/user/a?admin=1", "spiffe://edgelab/user/a%2Fb", "spiffe://x@edgelab/user/a",
	} {
		if id, err := ParseIdentity(s); err == nil {
			t.Errorf("ParseIdentity(%q) = %+v", s, id)
		}
	}
}

// TestTwoIdentitiesRefused: a certificate naming two lab identities is
// nobody.
func TestTwoIdentitiesRefused(t *testing.T) {
	a, _ := url.Parse("spiffe://edgelab/user/a")
	b, _ := url.Parse("spiffe://edgelab/controlplane/b")
	if _, err := IdentityOf(&x509.Certificate{URIs: []*url.URL{a, b}}); err == nil {
		t.Fatal("two identities accepted")
	}
	if _, err := IdentityOf(&x509.Certificate{}); !errors.Is(err, ErrNoIdentity) {
		t.Fatalf("no identity: %v", err)
	}
}

// TestSourceRenews: the certificate is reused until two thirds of its
// life, then a new one is issued.
func TestSourceRenews(t *testing.T) {
	ca, _ := newCA(t)
	now := time.Now()
	ca.now = func() time.Time { return now }
	src := NewSource(ca, Leaf{Identity: Identity{Kind: KindUser, Name: "alice"}, Lifetime: 3 * time.Hour})
	first, err := src.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	if c, _ := src.Certificate(); c != first {
		t.Fatal("renewed after a third of the lifetime")
	}
	now = now.Add(61 * time.Minute)
	second, err := src.Certificate()
	if err != nil || second == first || !second.Leaf.NotAfter.After(first.Leaf.NotAfter) {
		t.Fatalf("not renewed after two thirds: %v", err)
	}
}

// TestMutualTLS: over a real loopback connection, a client with a lab
// certificate gets through and the server reads its identity; a client
// without one, or with one from another CA, is refused.
func TestMutualTLS(t *testing.T) {
	ca, _ := newCA(t)
	rogue, _ := newCA(t)
	server := NewSource(ca, Leaf{Identity: Identity{Kind: KindControlPlane, Name: "cp-1"}, Lifetime: time.Hour, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", ServerTLS(ca.Pool(), server))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peers := make(chan string, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc := c.(*tls.Conn)
			if err := tc.Handshake(); err != nil {
				peers <- "refused"
			} else if id, err := PeerIdentity(tc.ConnectionState()); err != nil {
				peers <- "no identity"
			} else {
				peers <- id.String()
			}
			_, _ = io.WriteString(c, "x")
			c.Close()
		}
	}()
	dial := func(cfg *tls.Config) error {
		c, err := tls.Dial("tcp", ln.Addr().String(), cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = io.ReadAll(c)
		return err
	}
	node := NewSource(ca, Leaf{Identity: Identity{Kind: KindNode, Region: "us-east-1", Name: "n1"}, Lifetime: time.Hour})
	if err := dial(ClientTLS(ca.Pool(), node, "127.0.0.1")); err != nil {
		t.Fatalf("node with a lab certificate: %v", err)
	}
	if got := <-peers; got != "spiffe://edgelab/node/us-east-1/n1" {
		t.Fatalf("server saw %q", got)
	}
	noCert := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: ca.Pool(), ServerName: "127.0.0.1"}
	if err := dial(noCert); err == nil {
		t.Fatal("a client without a certificate got through")
	}
	if got := <-peers; got != "refused" {
		t.Fatalf("server saw %q for a client without a certificate", got)
	}
	impostor := NewSource(rogue, Leaf{Identity: Identity{Kind: KindNode, Region: "us-east-1", Name: "n1"}, Lifetime: time.Hour})
	if err := dial(ClientTLS(ca.Pool(), impostor, "127.0.0.1")); err == nil {
		t.Fatal("a client with another CA's certificate got through")
	}
	if got := <-peers; got != "refused" {
		t.Fatalf("server saw %q for a rogue client", got)
	}
}
