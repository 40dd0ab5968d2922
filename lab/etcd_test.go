package lab

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/edgelab/edgelab/pki"
)

// The lab's etcd admits only clients with a certificate from etcd's own
// CA: not a plaintext client, not a TLS client without a certificate, and
// not an edge node or user holding a certificate from the lab CA (a node
// must not read other distributions' functions from etcd).
func TestLabEtcdAdmitsOnlyEtcdCertificates(t *testing.T) {
	l := startLab(t, "us-east-1")
	if len(l.etcdEPs) != 1 || !strings.HasPrefix(l.etcdEPs[0], "https://") {
		t.Fatalf("etcd endpoints %v: want one https:// URL", l.etcdEPs)
	}
	etcdPool := l.trust.etcdCA.Pool()
	nodeCert := pki.NewSource(l.trust.ca, l.trust.leaf(pki.Identity{Kind: pki.KindNode, Region: "us-east-1", Name: "rogue"}))
	refused := map[string]*tls.Config{
		"plaintext":                 nil,
		"no client certificate":     pki.ClientTLS(etcdPool, nil, ""),
		"a lab CA node certificate": pki.ClientTLS(etcdPool, nodeCert, ""),
	}
	for name, cfg := range refused {
		err := etcdGet(l.etcdEPs, cfg)
		if err == nil {
			t.Errorf("%s: etcd answered a read; want it refused", name)
			continue
		}
		t.Logf("%s: refused: %v", name, err)
	}
	if err := etcdGet(l.etcdEPs, l.trust.etcdClient("lab-test")); err != nil {
		t.Fatalf("a client with an etcd certificate: %v", err)
	}
}

// etcdGet reads one key through a new client with cfg as its TLS.
func etcdGet(endpoints []string, cfg *tls.Config) error {
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, TLS: cfg, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err = cli.Get(ctx, "/edgelab/")
	return err
}
