package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Source holds one identity's current leaf certificate and renews it once
// two thirds of its lifetime have passed, on the next handshake that asks.
// It is safe for concurrent use.
type Source struct {
	ca   *CA
	leaf Leaf

	mu    sync.Mutex
	cur   *tls.Certificate
	renew time.Time
}

// NewSource issues certificates for l from ca, on first use and on renewal.
func NewSource(ca *CA, l Leaf) *Source { return &Source{ca: ca, leaf: l} }

// Identity is the identity the source's certificates carry.
func (s *Source) Identity() Identity { return s.leaf.Identity }

// Certificate returns the current certificate, issuing a new one when there
// is none or the current one is due for renewal.
func (s *Source) Certificate() (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.ca.now()
	if s.cur != nil && now.Before(s.renew) {
		return s.cur, nil
	}
	c, err := s.ca.Issue(s.leaf)
	if err != nil {
		if s.cur != nil && now.Before(s.cur.Leaf.NotAfter) {
			return s.cur, nil // keep serving the old one while it is valid
		}
		return nil, err
	}
	s.cur = c
	life := c.Leaf.NotAfter.Sub(now)
	s.renew = now.Add(life * 2 / 3)
	return c, nil
}

// ServerTLS is a TLS 1.3 server configuration that presents src's
// certificate and requires a client certificate signed by the pool's CA
// (mutual TLS). The handler reads the caller with PeerIdentity.
func ServerTLS(pool *x509.CertPool, src CertSource) *tls.Config {
	c := APIServerTLS(pool, src)
	c.ClientAuth = tls.RequireAndVerifyClientCert
	return c
}

// APIServerTLS is ServerTLS for a server that also takes callers without a
// certificate (users with a bearer token, a node enrolling with a join
// token): a certificate, when given, must verify against the pool, and the
// server decides per call what an unauthenticated peer may do.
func APIServerTLS(pool *x509.CertPool, src CertSource) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		ClientAuth: tls.VerifyClientCertIfGiven,
		ClientCAs:  pool,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return src.Certificate()
		},
	}
}

// ClientTLS is a TLS 1.3 client configuration that presents src's
// certificate and trusts only the pool's CA for a server named serverName.
// A nil src presents no certificate (a user authenticating with a token).
func ClientTLS(pool *x509.CertPool, src CertSource, serverName string) *tls.Config {
	c := &tls.Config{
		MinVersion: tls.VersionTLS13,
		RootCAs:    pool,
		ServerName: serverName,
	}
	if src != nil {
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return src.Certificate()
		}
	}
	return c
}

// ErrNoPeerCertificate is returned by PeerIdentity for a connection whose
// peer presented no verified certificate.
var ErrNoPeerCertificate = errors.New("peer presented no verified certificate")

// PeerIdentity is the lab identity of a connection's verified peer.
func PeerIdentity(cs tls.ConnectionState) (Identity, error) {
	if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return Identity{}, ErrNoPeerCertificate
	}
	id, err := IdentityOf(cs.VerifiedChains[0][0])
	if err != nil {
		return Identity{}, fmt.Errorf("peer certificate: %w", err)
	}
	return id, nil
}
