package access

import (
	"crypto/x509"
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgelab/edgelab/pki"
)

// Client is how a component or a user reaches the control plane: the CA
// to verify it with, and a certificate, a token or both. Insecure dials
// plaintext (a lab started with --insecure).
type Client struct {
	// Pool verifies the control plane's certificate. Required unless Insecure.
	Pool *x509.CertPool
	// Cert is presented when the server asks (mutual TLS); nil presents none.
	Cert pki.CertSource
	// Token is sent with every call when set.
	Token string
	// Insecure dials without TLS.
	Insecure bool
}

// ErrNoCredentials is returned by DialOptions for a Client that has
// neither a CA pool nor Insecure.
var ErrNoCredentials = errors.New("no TLS trust configured: give the lab CA certificate, or --insecure for a lab started with --insecure")

// DialOptions are the gRPC dial options for c.
func (c Client) DialOptions() ([]grpc.DialOption, error) {
	var opts []grpc.DialOption
	switch {
	case c.Insecure:
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	case c.Pool == nil:
		return nil, ErrNoCredentials
	default:
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(pki.ClientTLS(c.Pool, c.Cert, ""))))
	}
	if c.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(Token{Value: c.Token, Insecure: c.Insecure}))
	}
	return opts, nil
}

// BundleClient is a Client presenting the certificate of bundle b (a
// component started with --pki-dir) and verifying with its CA, or a
// plaintext one when insecure.
func BundleClient(b pki.Bundle, insecure bool) (Client, error) {
	if insecure {
		return Client{Insecure: true}, nil
	}
	pool, err := b.Pool()
	if err != nil {
		return Client{}, err
	}
	src := b.Source()
	if _, err := src.Certificate(); err != nil {
		return Client{}, err
	}
	return Client{Pool: pool, Cert: src}, nil
}
