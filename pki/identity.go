package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Kind is the role a certificate's holder plays in the lab.
type Kind string

// The kinds of identity the lab CA issues.
const (
	KindNode         Kind = "node"
	KindControlPlane Kind = "controlplane"
	KindUser         Kind = "user"
	KindEtcd         Kind = "etcd"
)

// TrustDomain is the SPIFFE trust domain of every lab identity.
const TrustDomain = "edgelab"

// Identity is who a certificate names. Region is set for nodes only.
type Identity struct {
	Kind   Kind
	Region string
	Name   string
}

// ErrNoIdentity is returned by IdentityOf for a certificate that carries no
// lab identity.
var ErrNoIdentity = errors.New("certificate carries no edgelab identity (spiffe://edgelab/... URI SAN)")

// namePart is what an id, name or region may be made of: it must survive a
// URI path unescaped and read unambiguously.
var namePart = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$`)

// Validate reports why an identity cannot be put in a certificate.
func (id Identity) Validate() error {
	switch id.Kind {
	case KindNode:
		if !namePart.MatchString(id.Region) {
			return fmt.Errorf("node identity: region %q must be 1-63 letters, digits, '.', '_' or '-'", id.Region)
		}
	case KindControlPlane, KindUser, KindEtcd:
		if id.Region != "" {
			return fmt.Errorf("%s identity: only nodes have a region", id.Kind)
		}
	default:
		return fmt.Errorf("identity kind %q is not one of node, controlplane, user, etcd", id.Kind)
	}
	if !namePart.MatchString(id.Name) {
		return fmt.Errorf("%s identity: name %q must be 1-63 letters, digits, '.', '_' or '-'", id.Kind, id.Name)
	}
	return nil
}

// ValidName reports why s cannot be an identity's name or region.
func ValidName(s string) error {
	if !namePart.MatchString(s) {
		return fmt.Errorf("%q must be 1-63 letters, digits, '.', '_' or '-'", s)
	}
	return nil
}

// URI is the identity's SPIFFE ID.
func (id Identity) URI() *url.URL {
	p := "/" + string(id.Kind)
	if id.Kind == KindNode {
		p += "/" + id.Region
	}
	return &url.URL{Scheme: "spiffe", Host: TrustDomain, Path: p + "/" + id.Name}
}

// String is the SPIFFE ID as text.
func (id Identity) String() string { return id.URI().String() }

// ParseIdentity reads a SPIFFE ID of the lab's trust domain.
func ParseIdentity(s string) (Identity, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "spiffe" || u.Host != TrustDomain || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return Identity{}, fmt.Errorf("%q is not a spiffe://%s/... identity", s, TrustDomain)
	}
	parts := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	var id Identity
	switch {
	case len(parts) == 3 && parts[0] == string(KindNode):
		id = Identity{Kind: KindNode, Region: parts[1], Name: parts[2]}
	case len(parts) == 2 && parts[0] != string(KindNode):
		id = Identity{Kind: Kind(parts[0]), Name: parts[1]}
	default:
		return Identity{}, fmt.Errorf("%q: path must be /node/<region>/<id> or /<kind>/<name>", s)
	}
	if err := id.Validate(); err != nil {
		return Identity{}, fmt.Errorf("%q: %w", s, err)
	}
	return id, nil
}

// IdentityOf returns the lab identity of a (verified) certificate: its one
// spiffe://edgelab URI SAN. A certificate with two is refused: it would be
// two people at once.
func IdentityOf(cert *x509.Certificate) (Identity, error) {
	var found []Identity
	for _, u := range cert.URIs {
		if u.Scheme != "spiffe" || u.Host != TrustDomain {
			continue
		}
		id, err := ParseIdentity(u.String())
		if err != nil {
			return Identity{}, err
		}
		found = append(found, id)
	}
	switch len(found) {
	case 0:
		return Identity{}, ErrNoIdentity
	case 1:
		return found[0], nil
	}
	return Identity{}, fmt.Errorf("certificate carries %d edgelab identities; exactly one is allowed", len(found))
}

// IssuedAt is when a lab certificate was issued: its NotBefore, which Issue
// backdates by the allowed clock skew.
func IssuedAt(cert *x509.Certificate) time.Time { return cert.NotBefore.Add(clockSkew) }
