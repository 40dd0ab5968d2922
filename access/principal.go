package access

import (
	"context"

	"github.com/edgelab/edgelab/pki"
)

// Principal is an authenticated caller.
type Principal struct {
	// Name is who it is: a token's name, or the certificate identity's
	// name (a node id, a replica id, a user).
	Name string
	// Role is what it may do.
	Role Role
	// Identity is the verified certificate identity; zero for a token.
	Identity pki.Identity
	// Hosts are the DNS names and IP addresses the certificate is valid
	// for: where a node may say viewers reach it.
	Hosts []string
}

// String names the principal for logs and the audit log: the SPIFFE ID for
// a certificate, token:<name> for a token.
func (p Principal) String() string {
	if p.Identity.Kind != "" {
		return p.Identity.String()
	}
	if p.Name == "" {
		return "anonymous"
	}
	return "token:" + p.Name
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p (set by the Guard for handlers).
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal of the call ctx belongs to.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
