package access

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/edgelab/edgelab/pki"
)

// Rule is what a method needs: the role, and whether a call changes state
// (and is written to the audit log).
type Rule struct {
	Role     Role
	Mutating bool
}

// Policy maps a gRPC full method name (/package.Service/Method) to its
// rule. A method the policy does not name is refused: a new RPC is closed
// until someone decides who may call it.
type Policy map[string]Rule

// TokenVerifier looks up a bearer token. It returns ErrUnknownToken for a
// token it does not know (or that was revoked).
type TokenVerifier interface {
	VerifyToken(ctx context.Context, token string) (Principal, error)
}

// ErrUnknownToken is returned by a TokenVerifier for a token it does not hold.
var ErrUnknownToken = errors.New("unknown or revoked token")

// CertVerifier decides whether a verified certificate identity may still
// act (a removed node's certificate is refused from then on) and which role
// it has. issued is when the certificate was issued.
type CertVerifier interface {
	VerifyCert(ctx context.Context, id pki.Identity, issued time.Time) (Principal, error)
}

// AuditEntry is one mutating call, as the audit log keeps it.
type AuditEntry struct {
	Time      time.Time `json:"time"`
	Principal string    `json:"principal"`
	Role      Role      `json:"role"`
	Method    string    `json:"method"`
	Target    string    `json:"target,omitempty"`
	Code      string    `json:"code"`
	Error     string    `json:"error,omitempty"`
}

// Auditor records mutating calls. Record must not block the call for long;
// it is called after the handler returned.
type Auditor interface {
	Record(ctx context.Context, e AuditEntry)
}

// Guard authenticates and authorises every call of a gRPC server.
type Guard struct {
	Policy Policy
	Tokens TokenVerifier
	Certs  CertVerifier
	// Audit receives mutating calls; nil records nothing.
	Audit Auditor
	// Now is the clock for audit entries; nil means time.Now.
	Now func() time.Time
}

// Unary is the guard as a unary server interceptor.
func (g *Guard) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	p, rule, err := g.authorize(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	resp, err := handler(WithPrincipal(ctx, p), req)
	if rule.Mutating {
		g.record(ctx, p, info.FullMethod, targetOf(req), err)
	}
	return resp, err
}

// Stream is the guard as a stream server interceptor.
func (g *Guard) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	p, rule, err := g.authorize(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	err = handler(srv, &principalStream{ServerStream: ss, ctx: WithPrincipal(ss.Context(), p)})
	if rule.Mutating {
		g.record(ss.Context(), p, info.FullMethod, "", err)
	}
	return err
}

// authorize finds the caller and checks the method's rule.
func (g *Guard) authorize(ctx context.Context, method string) (Principal, Rule, error) {
	rule, ok := g.Policy[method]
	if !ok {
		return Principal{}, rule, status.Errorf(codes.PermissionDenied, "%s is not in the access policy", method)
	}
	p, err := g.authenticate(ctx)
	if err != nil {
		if rule.Role == Anyone {
			return Principal{}, rule, nil
		}
		return Principal{}, rule, err
	}
	if !p.Role.Holds(rule.Role) {
		return p, rule, status.Errorf(codes.PermissionDenied, "%s needs role %s; %s has role %s", method, rule.Role, p, p.Role)
	}
	return p, rule, nil
}

// authenticate reads the caller: a bearer token when one is sent (it names
// the role), else a verified client certificate.
func (g *Guard) authenticate(ctx context.Context) (Principal, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	var auth string
	if vals := md.Get("authorization"); len(vals) > 0 {
		auth = vals[0]
	}
	if cert, id, ok := peerCert(ctx); ok && auth == "" {
		p, err := g.Certs.VerifyCert(ctx, id, pki.IssuedAt(cert))
		if err != nil {
			return Principal{}, status.Errorf(codes.PermissionDenied, "certificate %s: %v", id, err)
		}
		p.Identity, p.Hosts = id, certHosts(cert)
		return p, nil
	}
	return VerifyBearer(ctx, g.Tokens, auth)
}

// VerifyBearer checks an authorization value ("Bearer <token>", from gRPC
// metadata or an HTTP header) with v, and returns gRPC status errors:
// Unauthenticated for a missing, malformed, unknown or revoked token.
func VerifyBearer(ctx context.Context, v TokenVerifier, authorization string) (Principal, error) {
	if authorization == "" {
		return Principal{}, status.Error(codes.Unauthenticated, "no credentials: give a token (edgectl login, $EDGELAB_TOKEN) or a client certificate")
	}
	tok, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || tok == "" {
		return Principal{}, status.Error(codes.Unauthenticated, `the authorization header must be "Bearer <token>"`)
	}
	p, err := v.VerifyToken(ctx, tok)
	if errors.Is(err, ErrUnknownToken) {
		return Principal{}, status.Error(codes.Unauthenticated, "the token is unknown or was revoked")
	}
	if err != nil {
		return Principal{}, status.Errorf(codes.Unavailable, "checking the token: %v", err)
	}
	return p, nil
}

// peerCert is the call's verified client certificate and its identity.
func peerCert(ctx context.Context) (*x509.Certificate, pki.Identity, bool) {
	pr, ok := peer.FromContext(ctx)
	if !ok {
		return nil, pki.Identity{}, false
	}
	ti, ok := pr.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return nil, pki.Identity{}, false
	}
	id, err := pki.PeerIdentity(ti.State)
	if err != nil {
		return nil, pki.Identity{}, false
	}
	return ti.State.VerifiedChains[0][0], id, true
}

func certHosts(c *x509.Certificate) []string {
	hosts := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	return hosts
}

func (g *Guard) record(ctx context.Context, p Principal, method, target string, err error) {
	if g.Audit == nil {
		return
	}
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	e := AuditEntry{Time: now().UTC(), Principal: p.String(), Role: p.Role, Method: method, Target: target, Code: status.Code(err).String()}
	if err != nil {
		e.Error = status.Convert(err).Message()
	}
	g.Audit.Record(context.WithoutCancel(ctx), e)
}

// targetOf names what a request acts on, when it says (a function, a
// distribution, a fault, a node).
func targetOf(req any) string {
	switch r := req.(type) {
	case interface{ GetName() string }:
		return r.GetName()
	case interface{ GetDistributionId() string }:
		return r.GetDistributionId()
	case interface{ GetId() string }:
		return r.GetId()
	case interface{ GetNodeId() string }:
		return r.GetNodeId()
	}
	return ""
}

type principalStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *principalStream) Context() context.Context { return s.ctx }

// HashToken is how tokens are stored: hex SHA-256, so that a read of the
// store does not hand out credentials.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ErrMissingRole formats the PermissionDenied a handler returns when it
// checks a role itself.
func ErrMissingRole(p Principal, need Role, what string) error {
	return status.Error(codes.PermissionDenied, fmt.Sprintf("%s needs role %s; %s has role %s", what, need, p, p.Role))
}
