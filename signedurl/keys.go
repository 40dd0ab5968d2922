package signedurl

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// Key sizes accepted: CloudFront's public keys are 2048-bit RSA; the lab
// accepts up to 4096 bits.
const (
	MinKeyBits = 2048
	MaxKeyBits = 4096
)

// ParsePublicKey reads one PEM-encoded RSA public key: a "PUBLIC KEY"
// (PKIX, as openssl rsa -pubout writes it) or "RSA PUBLIC KEY" (PKCS #1)
// block, and nothing else.
func ParsePublicKey(data string) (*rsa.PublicKey, error) {
	block, err := onePEM(data, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	var pub any
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block is %q, want \"PUBLIC KEY\" or \"RSA PUBLIC KEY\"", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("malformed public key: %w", err)
	}
	k, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the key is %T, CloudFront key groups hold RSA keys", pub)
	}
	return k, checkBits(k.N.BitLen())
}

// ParsePrivateKey reads one PEM-encoded RSA private key: "RSA PRIVATE KEY"
// (PKCS #1, openssl genrsa) or "PRIVATE KEY" (PKCS #8).
func ParsePrivateKey(data string) (*rsa.PrivateKey, error) {
	block, err := onePEM(data, "RSA PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block is %q, want \"RSA PRIVATE KEY\" or \"PRIVATE KEY\"", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("malformed private key: %w", err)
	}
	k, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key is %T, CloudFront signs with RSA keys", key)
	}
	return k, checkBits(k.N.BitLen())
}

// onePEM decodes the only PEM block of data; example names the block
// type the error suggests.
func onePEM(data, example string) (*pem.Block, error) {
	block, rest := pem.Decode([]byte(data))
	if block == nil {
		return nil, fmt.Errorf("not PEM (want -----BEGIN %s----- ... -----END %s-----)", example, example)
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("more than one PEM block, or data after it")
	}
	return block, nil
}

func checkBits(n int) error {
	if n < MinKeyBits || n > MaxKeyBits {
		return fmt.Errorf("RSA key of %d bits, want %d to %d", n, MinKeyBits, MaxKeyBits)
	}
	return nil
}
