package lab

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/edgelab/edgelab/access"
	"github.com/edgelab/edgelab/controlplane"
	"github.com/edgelab/edgelab/pki"
	"github.com/edgelab/edgelab/store/embedded"
)

// Where the lab keeps its trust material, under DataDir.
const (
	pkiDir         = "pki"
	adminTokenFile = "admin.token"
	// etcdPKIDir (under pkiDir) holds a CA of etcd's own and the member's
	// certificate: only certificates from that CA, which the lab gives to
	// the control planes and itself alone, get into etcd; a node's or a
	// user's certificate from the lab CA is refused there.
	etcdPKIDir = "etcd"
	// etcdMemberName names the embedded member's certificate files.
	etcdMemberName = "etcd"
)

// leafLifetime is how long the lab's component certificates live; each
// is renewed after two thirds of it, while the lab runs.
const leafLifetime = time.Hour

// trust is the lab's CA, its admin token and how its components dial:
// every gRPC connection is mutual TLS with certificates from the CA, and
// users call with the admin token, unless the lab runs Insecure.
type trust struct {
	ca         *pki.CA
	etcdCA     *pki.CA
	dir        string
	host       string
	adminToken string
	insecure   bool
}

// loadTrust reads or creates the lab CA and admin token under dataDir.
func loadTrust(dataDir, host string, insecure bool) (*trust, error) {
	t := &trust{dir: filepath.Join(dataDir, pkiDir), host: host, insecure: insecure}
	if insecure {
		return t, nil
	}
	var err error
	if t.ca, err = pki.LoadOrCreateCA(t.dir); err != nil {
		return nil, fmt.Errorf("lab: certificate authority: %w", err)
	}
	if t.etcdCA, err = pki.LoadOrCreateCA(filepath.Join(t.dir, etcdPKIDir)); err != nil {
		return nil, fmt.Errorf("lab: etcd certificate authority: %w", err)
	}
	if t.adminToken, err = loadOrCreateToken(filepath.Join(t.dir, adminTokenFile)); err != nil {
		return nil, fmt.Errorf("lab: admin token: %w", err)
	}
	return t, nil
}

// loadOrCreateToken keeps the admin token across restarts of the lab.
func loadOrCreateToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	tok := access.NewToken()
	return tok, os.WriteFile(path, []byte(tok+"\n"), 0o600)
}

// leaf is a certificate request for id, valid on the lab's host.
func (t *trust) leaf(id pki.Identity) pki.Leaf {
	l := pki.Leaf{Identity: id, Lifetime: leafLifetime, DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}}
	if ip := net.ParseIP(t.host); ip != nil {
		l.IPs = append(l.IPs, ip)
	} else if t.host != "" {
		l.DNSNames = append(l.DNSNames, t.host)
	}
	return l
}

// controlPlane fills a replica's TLS, CA (for enrolment) and admin token.
func (t *trust) controlPlane(cfg *controlplane.Config) {
	if t.insecure {
		cfg.Insecure = true
		return
	}
	src := pki.NewSource(t.ca, t.leaf(pki.Identity{Kind: pki.KindControlPlane, Name: cfg.ID}))
	cfg.TLS = pki.APIServerTLS(t.ca.Pool(), src)
	cfg.EtcdTLS = t.etcdClient(cfg.ID)
	cfg.CA = t.ca
	cfg.AdminToken = t.adminToken
}

// etcdMember writes the embedded etcd member's certificate files and keeps
// them renewed until ctx ends (wg tracks that goroutine; onErr hears of a
// failed renewal). It returns nil when the lab runs insecure.
func (t *trust) etcdMember(ctx context.Context, wg *sync.WaitGroup, onErr func(error)) (*embedded.TLSFiles, error) {
	if t.insecure {
		return nil, nil
	}
	r := pki.Renewer{CA: t.etcdCA, Leaf: t.leaf(pki.Identity{Kind: pki.KindEtcd, Name: etcdMemberName}),
		Bundle: pki.Bundle{Dir: filepath.Join(t.dir, etcdPKIDir), Name: etcdMemberName}}
	due, err := r.Write()
	if err != nil {
		return nil, fmt.Errorf("lab: etcd member certificate: %w", err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); r.Run(ctx, due, onErr) }()
	return &embedded.TLSFiles{CertFile: r.Bundle.CertFile(), KeyFile: r.Bundle.KeyFile(), CAFile: r.Bundle.CAFile()}, nil
}

// etcdClient is how a control plane (or the lab, as name) connects to the
// embedded etcd: with a client certificate from etcd's CA. nil when
// insecure (plaintext).
func (t *trust) etcdClient(name string) *tls.Config {
	if t.insecure {
		return nil
	}
	src := pki.NewSource(t.etcdCA, t.leaf(pki.Identity{Kind: pki.KindControlPlane, Name: name}))
	return pki.ClientTLS(t.etcdCA.Pool(), src, "")
}

// nodeDial is how edge node id in region dials the control planes: with
// its own certificate.
func (t *trust) nodeDial(id, region string) []grpc.DialOption {
	c := access.Client{Insecure: t.insecure}
	if !t.insecure {
		c.Pool = t.ca.Pool()
		c.Cert = pki.NewSource(t.ca, t.leaf(pki.Identity{Kind: pki.KindNode, Region: region, Name: id}))
	}
	opts, _ := c.DialOptions() // a pool or Insecure is always set
	return opts
}

// adminDial is how the lab itself (deploying the sample, following
// faults) calls the control planes: with the admin token.
func (t *trust) adminDial() []grpc.DialOption {
	c := access.Client{Insecure: t.insecure, Token: t.adminToken}
	if !t.insecure {
		c.Pool = t.ca.Pool()
	}
	opts, _ := c.DialOptions()
	return opts
}

// caFile is the CA certificate's path relative to the data dir, for
// lab.json ("" when insecure).
func (t *trust) caFile() string {
	if t.insecure {
		return ""
	}
	return filepath.Join(pkiDir, pki.CACertFile)
}

// AdminDialOptions are the gRPC dial options of an admin client of the
// lab's control planes (the lab CA and the admin token), for tests and
// tools running in the same process.
func (l *Lab) AdminDialOptions() []grpc.DialOption { return l.trust.adminDial() }
