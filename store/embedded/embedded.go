// Package embedded runs a single-member etcd inside the calling process, on
// loopback ports it picks, for the all-in-one lab and for tests. The data
// survives a restart on the same directory: the peer port chosen the first
// time is remembered in the directory and reused.
package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
)

// startTimeout bounds how long Start waits for the member to become ready.
const startTimeout = 60 * time.Second

// portsFile remembers the peer port (which etcd records in its membership)
// so a restart on the same directory finds its member again.
const portsFile = "edgelab-etcd-ports.json"

type ports struct {
	Peer int `json:"peer"`
}

// Etcd is a running embedded etcd member.
type Etcd struct {
	e         *embed.Etcd
	endpoints []string
}

// Endpoints returns the client URLs (http://127.0.0.1:PORT) to give to clientv3
// or to another control plane's --etcd-endpoints.
func (e *Etcd) Endpoints() []string { return append([]string(nil), e.endpoints...) }

// Close stops the member and waits for it to exit. It is safe to call twice.
func (e *Etcd) Close() {
	e.e.Close()
}

// Err reports a fatal error of the running member (nil channel value means none yet).
func (e *Etcd) Err() <-chan error { return e.e.Err() }

// TLSFiles are the PEM files of a member that serves its clients over TLS
// and admits only clients with a certificate from CAFile (etcd's
// --cert-file, --key-file, --trusted-ca-file and --client-cert-auth). etcd
// reads the certificate files on every handshake, so a renewed pair written
// over them takes effect without a restart.
type TLSFiles struct {
	CertFile, KeyFile, CAFile string
}

// Start runs an etcd member with its data in dir (created if needed; data in
// dir/etcd) and waits until it serves clients or ctx is done. Its clients
// connect in plaintext; StartTLS requires client certificates.
func Start(ctx context.Context, dir string) (*Etcd, error) { return StartTLS(ctx, dir, nil) }

// StartTLS is Start with the client URL served over TLS with client
// certificate authentication when t is not nil (https://127.0.0.1:PORT).
// The peer URL stays plaintext loopback: a single member has no peers.
func StartTLS(ctx context.Context, dir string, t *TLSFiles) (*Etcd, error) {
	cfg, err := memberConfig(dir, t)
	if err != nil {
		return nil, err
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd in %s: %w", dir, err)
	}
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd failed: %w", err)
	case <-timer.C:
		e.Close()
		return nil, fmt.Errorf("embedded etcd not ready after %s", startTimeout)
	case <-ctx.Done():
		e.Close()
		return nil, fmt.Errorf("starting embedded etcd: %w", ctx.Err())
	}
	return &Etcd{e: e, endpoints: []string{cfg.AdvertiseClientUrls[0].String()}}, nil
}

// memberConfig is the single member's configuration: its data under dir,
// the remembered peer port and a fresh client port, TLS when t is set.
func memberConfig(dir string, t *TLSFiles) (*embed.Config, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating etcd dir: %w", err)
	}
	p, err := loadPorts(filepath.Join(dir, portsFile))
	if err != nil {
		return nil, err
	}
	clientPort, err := freePort()
	if err != nil {
		return nil, err
	}
	cu := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", clientPort)}
	if t != nil {
		cu.Scheme = "https"
	}
	pu := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", p.Peer)}

	cfg := embed.NewConfig()
	cfg.Name = "edgelab"
	cfg.Dir = filepath.Join(dir, "etcd")
	cfg.ListenClientUrls = []url.URL{cu}
	cfg.AdvertiseClientUrls = []url.URL{cu}
	cfg.ListenPeerUrls = []url.URL{pu}
	cfg.AdvertisePeerUrls = []url.URL{pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "warn"
	// etcd's own log goes to a file next to its data, not the terminal of
	// `edgelab up` (etcd logs a few harmless errors on every shutdown).
	cfg.LogOutputs = []string{filepath.Join(dir, "etcd.log")}
	cfg.ListenMetricsUrls = nil
	if t != nil {
		cfg.ClientTLSInfo = transport.TLSInfo{CertFile: t.CertFile, KeyFile: t.KeyFile, TrustedCAFile: t.CAFile, ClientCertAuth: true}
	}
	return cfg, nil
}

// loadPorts reads the remembered peer port from pf, or picks one and
// remembers it.
func loadPorts(pf string) (ports, error) {
	var p ports
	if b, err := os.ReadFile(pf); err == nil {
		if err := json.Unmarshal(b, &p); err != nil {
			return p, fmt.Errorf("reading %s: %w", pf, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return p, fmt.Errorf("reading %s: %w", pf, err)
	}
	if p.Peer != 0 {
		return p, nil
	}
	port, err := freePort()
	if err != nil {
		return p, err
	}
	p.Peer = port
	b, _ := json.Marshal(p)
	if err := os.WriteFile(pf, b, 0o600); err != nil {
		return p, fmt.Errorf("writing %s: %w", pf, err)
	}
	return p, nil
}

// freePort asks the kernel for a free loopback port. There is a small window
// in which another process could take it; etcd then fails to start and the
// caller sees the error.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("picking a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
