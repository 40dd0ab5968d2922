package signedurl

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // CloudFront's default signature hash
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Hash is a signature hash algorithm, as Hash-Algorithm names it.
type Hash string

// The hash algorithms CloudFront accepts; "" is SHA1, the default.
const (
	SHA1   Hash = "SHA1"
	SHA256 Hash = "SHA256"
)

// ParseHash reads a Hash-Algorithm value ("" is SHA1).
func ParseHash(s string) (Hash, error) {
	switch Hash(s) {
	case "", SHA1:
		return SHA1, nil
	case SHA256:
		return SHA256, nil
	}
	return "", fmt.Errorf("hash algorithm %q: want SHA1 or SHA256", s)
}

func (h Hash) digest(msg []byte) (crypto.Hash, []byte) {
	if h == SHA256 {
		d := sha256.Sum256(msg)
		return crypto.SHA256, d[:]
	}
	d := sha1.Sum(msg) //nolint:gosec // CloudFront's default
	return crypto.SHA1, d[:]
}

// Query parameter and cookie names.
const (
	ParamExpires       = "Expires"
	ParamPolicy        = "Policy"
	ParamSignature     = "Signature"
	ParamKeyPairID     = "Key-Pair-Id"
	ParamHashAlgorithm = "Hash-Algorithm"
	CookiePrefix       = "CloudFront-"
)

// Signer signs URLs and cookies with one private key of a trusted key group.
type Signer struct {
	// KeyPairID is the public key's id in the key group (Key-Pair-Id).
	KeyPairID string
	Key       *rsa.PrivateKey
	// Hash is the signature hash ("" = SHA1).
	Hash Hash
}

// Sign returns the encoded signature of policy.
func (s Signer) Sign(policy []byte) (string, error) {
	if s.Key == nil || s.KeyPairID == "" {
		return "", errors.New("signer needs a key and a key pair id")
	}
	h, d := s.Hash.digest(policy)
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.Key, h, d)
	if err != nil {
		return "", fmt.Errorf("signing policy: %w", err)
	}
	return Encode(sig), nil
}

// CannedURL returns rawURL signed with a canned policy: rawURL itself is the
// resource, so it must be the URL viewers will request (scheme, host with
// port, path as sent, query).
func (s Signer) CannedURL(rawURL string, expires time.Time) (string, error) {
	if err := checkURL(rawURL); err != nil {
		return "", err
	}
	sig, err := s.Sign(Canned(rawURL, expires))
	if err != nil {
		return "", err
	}
	return s.appendParams(rawURL, ParamExpires, strconv.FormatInt(expires.Unix(), 10), sig), nil
}

// CustomURL returns rawURL signed with the custom policy p; p.Resource may
// be a pattern rawURL matches, or "" for every URL.
func (s Signer) CustomURL(rawURL string, p *Policy) (string, error) {
	return s.PolicyURL(rawURL, p.JSON())
}

// PolicyURL returns rawURL signed with the custom policy statement js,
// sent as given (write it without white space).
func (s Signer) PolicyURL(rawURL string, js []byte) (string, error) {
	if err := checkURL(rawURL); err != nil {
		return "", err
	}
	sig, err := s.Sign(js)
	if err != nil {
		return "", err
	}
	return s.appendParams(rawURL, ParamPolicy, Encode(js), sig), nil
}

func (s Signer) appendParams(rawURL, name, value, sig string) string {
	sep := "?"
	if strings.Contains(rawURL, "?") {
		sep = "&"
	}
	out := rawURL + sep + name + "=" + value + "&" + ParamSignature + "=" + sig + "&" + ParamKeyPairID + "=" + s.KeyPairID
	if s.Hash == SHA256 {
		out += "&" + ParamHashAlgorithm + "=" + string(SHA256)
	}
	return out
}

func checkURL(rawURL string) error {
	switch {
	case !strings.HasPrefix(rawURL, "http://") && !strings.HasPrefix(rawURL, "https://"):
		return fmt.Errorf("URL %q: must start with http:// or https://", rawURL)
	case strings.Contains(rawURL, "#"):
		return fmt.Errorf("URL %q: a signed URL has no fragment", rawURL)
	}
	for _, name := range []string{ParamExpires, ParamPolicy, ParamSignature, ParamKeyPairID, ParamHashAlgorithm} {
		if _, ok := queryValue(rawURL, name); ok {
			return fmt.Errorf("URL %q: it already has the reserved parameter %s", rawURL, name)
		}
	}
	return nil
}

// CannedCookies returns the CloudFront-Expires, CloudFront-Signature and
// CloudFront-Key-Pair-Id cookies for a canned policy on resource (the
// exact URL the cookies grant); the caller adds Domain, Path and the flags.
func (s Signer) CannedCookies(resource string, expires time.Time) ([]*http.Cookie, error) {
	sig, err := s.Sign(Canned(resource, expires))
	if err != nil {
		return nil, err
	}
	return s.cookies(ParamExpires, strconv.FormatInt(expires.Unix(), 10), sig), nil
}

// CustomCookies returns the CloudFront-Policy, CloudFront-Signature and
// CloudFront-Key-Pair-Id cookies for the custom policy p.
func (s Signer) CustomCookies(p *Policy) ([]*http.Cookie, error) {
	return s.PolicyCookies(p.JSON())
}

// PolicyCookies returns the cookies for the custom policy statement js.
func (s Signer) PolicyCookies(js []byte) ([]*http.Cookie, error) {
	sig, err := s.Sign(js)
	if err != nil {
		return nil, err
	}
	return s.cookies(ParamPolicy, Encode(js), sig), nil
}

func (s Signer) cookies(name, value, sig string) []*http.Cookie {
	cs := []*http.Cookie{
		{Name: CookiePrefix + name, Value: value},
		{Name: CookiePrefix + ParamSignature, Value: sig},
		{Name: CookiePrefix + ParamKeyPairID, Value: s.KeyPairID},
	}
	if s.Hash == SHA256 {
		cs = append(cs, &http.Cookie{Name: CookiePrefix + ParamHashAlgorithm, Value: string(SHA256)})
	}
	return cs
}
