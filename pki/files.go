package pki

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// CertSource gives the certificate to present on the next handshake. A
// Source (issuing from a CA in the same process) and a FileSource (reading
// files another process renews) are both CertSources.
type CertSource interface {
	Certificate() (*tls.Certificate, error)
}

// Bundle names the files of one component's credentials in a directory:
// <name>.crt (the leaf and the CA, PEM), <name>.key (PKCS#8 PEM, mode 0600)
// and the CA's certificate ca.crt that peers are checked against.
type Bundle struct {
	Dir  string
	Name string
}

// CertFile is the path of the bundle's certificate chain.
func (b Bundle) CertFile() string { return filepath.Join(b.Dir, b.Name+".crt") }

// KeyFile is the path of the bundle's private key.
func (b Bundle) KeyFile() string { return filepath.Join(b.Dir, b.Name+".key") }

// CAFile is the path of the CA certificate peers are verified against.
func (b Bundle) CAFile() string { return filepath.Join(b.Dir, CACertFile) }

// Write stores c (as issued by CA.Issue) in the bundle's files, each
// atomically, the key with mode 0600, and the CA certificate beside them.
func (b Bundle) Write(c *tls.Certificate, caPEM []byte) error {
	chain, key, err := EncodePEM(c)
	if err != nil {
		return fmt.Errorf("credentials %s: %w", b.Name, err)
	}
	return b.WritePEM(chain, key, caPEM)
}

// WritePEM stores PEM credentials (as EnrollNode returns them) in the
// bundle's files.
func (b Bundle) WritePEM(chain, key, caPEM []byte) error {
	if err := os.MkdirAll(b.Dir, 0o700); err != nil {
		return fmt.Errorf("writing credentials %s: %w", b.Name, err)
	}
	// The key first: a reader that sees the new certificate then finds
	// its key (FileSource reloads when either file changes).
	if err := writeFileAtomic(b.KeyFile(), key, 0o600); err != nil {
		return err
	}
	if err := writeFileAtomic(b.CertFile(), chain, 0o644); err != nil {
		return err
	}
	return writeFileAtomic(b.CAFile(), caPEM, 0o644)
}

// Pool reads the bundle's CA certificate.
func (b Bundle) Pool() (*x509.CertPool, error) { return LoadPool(b.CAFile()) }

// Source is a FileSource on the bundle's files.
func (b Bundle) Source() *FileSource { return NewFileSource(b.CertFile(), b.KeyFile()) }

// LoadPool reads a PEM file of CA certificates.
func LoadPool(caFile string) (*x509.CertPool, error) {
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("reading CA certificate %s: no PEM certificate in it", caFile)
	}
	return pool, nil
}

// FileSource presents the certificate in a pair of files and reads them
// again when either changes (size or modification time), so a certificate
// renewed on disk is used from the next handshake on, without a restart.
// Safe for concurrent use.
type FileSource struct {
	certFile, keyFile string

	mu    sync.Mutex
	cur   *tls.Certificate
	stamp [2]fileStamp
}

type fileStamp struct {
	size int64
	mod  time.Time
}

// NewFileSource reads certFile and keyFile on first use.
func NewFileSource(certFile, keyFile string) *FileSource {
	return &FileSource{certFile: certFile, keyFile: keyFile}
}

// Certificate returns the files' certificate, reloaded when they changed.
// While a rewrite is half done (the pair does not match) the previous
// certificate is kept.
func (s *FileSource) Certificate() (*tls.Certificate, error) {
	st, err := s.stamps()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && s.cur != nil && st == s.stamp {
		return s.cur, nil
	}
	c, lerr := tls.LoadX509KeyPair(s.certFile, s.keyFile)
	if err == nil {
		err = lerr
	}
	if err != nil {
		if s.cur != nil && time.Now().Before(s.cur.Leaf.NotAfter) {
			return s.cur, nil
		}
		return nil, fmt.Errorf("loading certificate %s: %w", s.certFile, err)
	}
	s.cur, s.stamp = &c, st
	return s.cur, nil
}

func (s *FileSource) stamps() ([2]fileStamp, error) {
	var out [2]fileStamp
	for i, p := range []string{s.certFile, s.keyFile} {
		fi, err := os.Stat(p)
		if err != nil {
			return out, err
		}
		out[i] = fileStamp{size: fi.Size(), mod: fi.ModTime()}
	}
	return out, nil
}

// EncodePEM returns c's chain and its PKCS#8 key as PEM, as Bundle.Write
// stores them.
func EncodePEM(c *tls.Certificate) (certPEM, keyPEM []byte, err error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding the key: %w", err)
	}
	for _, der := range c.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// ServerTLS is the API server configuration (APIServerTLS) of the
// bundle's certificate, verifying client certificates with its CA.
func (b Bundle) ServerTLS() (*tls.Config, error) {
	pool, err := b.Pool()
	if err != nil {
		return nil, err
	}
	if _, err := b.Source().Certificate(); err != nil {
		return nil, err
	}
	return APIServerTLS(pool, b.Source()), nil
}

// LoadCA reads the CA kept in dir when its key is there too; (nil, nil)
// when dir holds only the CA certificate (a component that verifies but
// does not issue).
func LoadCA(dir string) (*CA, error) {
	if _, err := os.Stat(filepath.Join(dir, CAKeyFile)); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return LoadOrCreateCA(dir)
}

// Renewer keeps one bundle's files holding a valid certificate for Leaf,
// for a program that reads its certificate from files on each handshake
// (an etcd member).
type Renewer struct {
	CA     *CA
	Leaf   Leaf
	Bundle Bundle
}

// renewRetry is how soon a failed renewal is tried again.
const renewRetry = time.Minute

// Write issues a certificate and writes it into the bundle now, and says
// when it is due for renewal (two thirds into its life).
func (r Renewer) Write() (due time.Time, err error) {
	c, err := r.CA.Issue(r.Leaf)
	if err != nil {
		return time.Time{}, err
	}
	if err := r.Bundle.Write(c, r.CA.CertPEM()); err != nil {
		return time.Time{}, err
	}
	now := r.CA.now()
	return now.Add(c.Leaf.NotAfter.Sub(now) * 2 / 3), nil
}

// Run writes a new certificate each time the current one is due (the first
// at due), until ctx ends. A failed write is reported to onErr and tried
// again a minute later; the old files stay valid meanwhile.
func (r Renewer) Run(ctx context.Context, due time.Time, onErr func(error)) {
	for {
		t := time.NewTimer(time.Until(due))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		next, err := r.Write()
		if err != nil {
			onErr(fmt.Errorf("renewing %s: %w", r.Bundle.CertFile(), err))
			next = time.Now().Add(renewRetry)
		}
		due = next
	}
}
