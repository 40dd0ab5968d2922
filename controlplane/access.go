package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"sort"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/access"
	"github.com/edgelab/edgelab/pki"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/store"
)

// DefaultNodeCertLifetime is how long an enrolled node's certificate lives.
const DefaultNodeCertLifetime = 24 * time.Hour

// accessStore keeps tokens, node removals and the audit log in etcd, and
// serves AccessService. It is the guard's TokenVerifier, CertVerifier and
// Auditor.
type accessStore struct {
	edgelabv1.UnimplementedAccessServiceServer

	kv       clientv3.KV
	keys     store.Keys
	replica  string
	ca       *pki.CA // nil: this replica cannot enroll nodes
	certLife time.Duration
	log      *slog.Logger
	now      func() time.Time
}

// tokenRecord is what etcd holds for a token, under the hash of its secret.
type tokenRecord struct {
	Name      string      `json:"name"`
	Role      access.Role `json:"role"`
	Created   time.Time   `json:"created"`
	CreatedBy string      `json:"created_by"`
}

var tokenName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,62}$`)

// VerifyToken looks the token's hash up.
func (a *accessStore) VerifyToken(ctx context.Context, token string) (access.Principal, error) {
	resp, err := a.kv.Get(ctx, a.keys.Token(access.HashToken(token)))
	if err != nil {
		return access.Principal{}, fmt.Errorf("reading tokens: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return access.Principal{}, access.ErrUnknownToken
	}
	var rec tokenRecord
	if err := json.Unmarshal(resp.Kvs[0].Value, &rec); err != nil {
		return access.Principal{}, fmt.Errorf("token record: %w", err)
	}
	return access.Principal{Name: rec.Name, Role: rec.Role}, nil
}

// VerifyCert gives a certificate identity its role: nodes open the
// replication stream (unless removed after the certificate was issued),
// replicas are admins, users read.
func (a *accessStore) VerifyCert(ctx context.Context, id pki.Identity, issued time.Time) (access.Principal, error) {
	switch id.Kind {
	case pki.KindNode:
		removed, err := a.removedAt(ctx, id.Name)
		if err != nil {
			return access.Principal{}, err
		}
		if !removed.IsZero() && !issued.After(removed) {
			return access.Principal{}, fmt.Errorf("node %s was removed at %s; enroll it again", id.Name, removed.Format(time.RFC3339))
		}
		return access.Principal{Name: id.Name, Role: access.Node}, nil
	case pki.KindControlPlane:
		return access.Principal{Name: id.Name, Role: access.Admin}, nil
	case pki.KindUser:
		return access.Principal{Name: id.Name, Role: access.Viewer}, nil
	}
	return access.Principal{}, fmt.Errorf("%s certificates do not call the control plane", id.Kind)
}

func (a *accessStore) removedAt(ctx context.Context, node string) (time.Time, error) {
	resp, err := a.kv.Get(ctx, a.keys.RemovedNode(node))
	if err != nil {
		return time.Time{}, fmt.Errorf("reading node removals: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, string(resp.Kvs[0].Value))
}

// Record writes one audit entry; a failure is logged, never returned (the
// call it records has already happened).
func (a *accessStore) Record(ctx context.Context, e access.AuditEntry) {
	b, _ := json.Marshal(e)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := a.kv.Put(ctx, a.keys.AuditEntry(e.Time.UnixNano(), a.replica), string(b)); err != nil {
		a.log.Error("audit log write failed", "method", e.Method, "principal", e.Principal, "err", err)
	}
}

// ensureToken stores token as name with role unless it is there already
// (the admin token `edgelab up` and the compose lab start with).
func (a *accessStore) ensureToken(ctx context.Context, name string, role access.Role, token string) error {
	b, _ := json.Marshal(tokenRecord{Name: name, Role: role, Created: a.now().UTC(), CreatedBy: "bootstrap"})
	key := a.keys.Token(access.HashToken(token))
	_, err := a.kv.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).Then(clientv3.OpPut(key, string(b))).Commit()
	if err != nil {
		return fmt.Errorf("storing the %s token: %w", name, err)
	}
	return nil
}

// tokens lists every token record by key.
func (a *accessStore) tokens(ctx context.Context) (map[string]tokenRecord, error) {
	resp, err := a.kv.Get(ctx, a.keys.Tokens(), clientv3.WithPrefix())
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "reading tokens: %v", err)
	}
	out := make(map[string]tokenRecord, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var rec tokenRecord
		if json.Unmarshal(kv.Value, &rec) == nil {
			out[string(kv.Key)] = rec
		}
	}
	return out, nil
}

func (rec tokenRecord) info() *edgelabv1.TokenInfo {
	return &edgelabv1.TokenInfo{Name: rec.Name, Role: string(rec.Role), Created: timestamppb.New(rec.Created), CreatedBy: rec.CreatedBy}
}

// CreateToken issues a new token with a role; the secret is returned once.
func (a *accessStore) CreateToken(ctx context.Context, req *edgelabv1.CreateTokenRequest) (*edgelabv1.CreateTokenResponse, error) {
	if !tokenName.MatchString(req.Name) {
		return nil, status.Errorf(codes.InvalidArgument, "token name %q must be 1-63 letters, digits, '.', '_', '@' or '-'", req.Name)
	}
	role, err := access.ParseRole(req.Role)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	all, err := a.tokens(ctx)
	if err != nil {
		return nil, err
	}
	for _, rec := range all {
		if rec.Name == req.Name {
			return nil, status.Errorf(codes.AlreadyExists, "a token named %s exists; revoke it first", req.Name)
		}
	}
	p, _ := access.PrincipalFrom(ctx)
	rec := tokenRecord{Name: req.Name, Role: role, Created: a.now().UTC(), CreatedBy: p.String()}
	secret := access.NewToken()
	b, _ := json.Marshal(rec)
	if _, err := a.kv.Put(ctx, a.keys.Token(access.HashToken(secret)), string(b)); err != nil {
		return nil, status.Errorf(codes.Unavailable, "storing the token: %v", err)
	}
	return &edgelabv1.CreateTokenResponse{Info: rec.info(), Token: secret}, nil
}

// ListTokens lists the tokens by name (never their secrets).
func (a *accessStore) ListTokens(ctx context.Context, _ *edgelabv1.ListTokensRequest) (*edgelabv1.ListTokensResponse, error) {
	all, err := a.tokens(ctx)
	if err != nil {
		return nil, err
	}
	out := &edgelabv1.ListTokensResponse{}
	for _, rec := range all {
		out.Tokens = append(out.Tokens, rec.info())
	}
	sort.Slice(out.Tokens, func(i, j int) bool { return out.Tokens[i].Name < out.Tokens[j].Name })
	return out, nil
}

// RevokeToken deletes the token with that name; calls with it fail from
// then on.
func (a *accessStore) RevokeToken(ctx context.Context, req *edgelabv1.RevokeTokenRequest) (*edgelabv1.RevokeTokenResponse, error) {
	all, err := a.tokens(ctx)
	if err != nil {
		return nil, err
	}
	for key, rec := range all {
		if rec.Name == req.Name {
			if _, err := a.kv.Delete(ctx, key); err != nil {
				return nil, status.Errorf(codes.Unavailable, "revoking: %v", err)
			}
			return &edgelabv1.RevokeTokenResponse{}, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "no token named %s", req.Name)
}

// EnrollNode issues a certificate naming the node, valid for its hosts.
func (a *accessStore) EnrollNode(ctx context.Context, req *edgelabv1.EnrollNodeRequest) (*edgelabv1.EnrollNodeResponse, error) {
	if a.ca == nil {
		return nil, status.Error(codes.FailedPrecondition, "this control plane holds no CA key, so it cannot enroll nodes (start it with --pki-dir holding ca.key)")
	}
	leaf := pki.Leaf{Identity: pki.Identity{Kind: pki.KindNode, Region: req.Region, Name: req.NodeId}, Lifetime: a.certLife, DNSNames: req.DnsNames}
	for _, s := range req.Ips {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, status.Errorf(codes.InvalidArgument, "ips: %q is not an IP address", s)
		}
		leaf.IPs = append(leaf.IPs, ip)
	}
	if err := leaf.Identity.Validate(); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if err := a.waitPastRemoval(ctx, req.NodeId); err != nil {
		return nil, err
	}
	c, err := a.ca.Issue(leaf)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "issuing: %v", err)
	}
	certPEM, keyPEM, err := pki.EncodePEM(c)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encoding: %v", err)
	}
	return &edgelabv1.EnrollNodeResponse{CertPem: certPEM, KeyPem: keyPEM, CaPem: a.ca.CertPEM(), NotAfter: timestamppb.New(c.Leaf.NotAfter)}, nil
}

// waitPastRemoval waits, when node was removed less than a second ago,
// until the next second: certificate times have a resolution of one
// second, and a certificate issued in the second of the removal would be
// refused with the ones the removal meant.
func (a *accessStore) waitPastRemoval(ctx context.Context, node string) error {
	removed, err := a.removedAt(ctx, node)
	if err != nil {
		return status.Errorf(codes.Unavailable, "%v", err)
	}
	wait := removed.Truncate(time.Second).Add(time.Second).Sub(a.now())
	if removed.IsZero() || wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}

// RemoveNode refuses the node's certificates issued until now; enrolling it
// again issues one that is accepted.
func (a *accessStore) RemoveNode(ctx context.Context, req *edgelabv1.RemoveNodeRequest) (*edgelabv1.RemoveNodeResponse, error) {
	if err := pki.ValidName(req.NodeId); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "node_id: %v", err)
	}
	if _, err := a.kv.Put(ctx, a.keys.RemovedNode(req.NodeId), a.now().UTC().Format(time.RFC3339Nano)); err != nil {
		return nil, status.Errorf(codes.Unavailable, "recording the removal: %v", err)
	}
	return &edgelabv1.RemoveNodeResponse{}, nil
}

// ListAudit returns the newest entries, oldest first.
func (a *accessStore) ListAudit(ctx context.Context, req *edgelabv1.ListAuditRequest) (*edgelabv1.ListAuditResponse, error) {
	limit := int64(req.Limit)
	if limit <= 0 {
		limit = 100
	}
	resp, err := a.kv.Get(ctx, a.keys.Audit(), clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend), clientv3.WithLimit(limit))
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "reading the audit log: %v", err)
	}
	out := &edgelabv1.ListAuditResponse{}
	for i := len(resp.Kvs) - 1; i >= 0; i-- {
		var e access.AuditEntry
		if err := json.Unmarshal(resp.Kvs[i].Value, &e); err != nil {
			continue
		}
		out.Entries = append(out.Entries, &edgelabv1.AuditEntry{Time: timestamppb.New(e.Time), Principal: e.Principal, Role: string(e.Role),
			Method: e.Method, Target: e.Target, Code: e.Code, Error: e.Error})
	}
	return out, nil
}

var errNoTLS = errors.New("no TLS configured: give the server certificate (Config.TLS) or run with Insecure")

// startAccess sets up the token, removal and audit store and stores the
// bootstrap admin token.
func (s *Server) startAccess(cfg Config) error {
	s.access = &accessStore{kv: s.etcd, keys: s.keys, replica: s.id, ca: cfg.CA, certLife: cfg.NodeCertLifetime,
		log: s.log.With("part", "access"), now: time.Now}
	if cfg.Insecure {
		s.log.Warn("INSECURE: plaintext gRPC and no authentication; anyone who reaches " + s.Addr() + " can read and change everything")
	}
	if cfg.AdminToken == "" {
		return nil
	}
	ctx, cancel := s.rpcCtx(context.Background())
	defer cancel()
	return s.access.ensureToken(ctx, "admin", access.Admin, cfg.AdminToken)
}

// grpcOptions are the server's credentials and interceptors: TLS and the
// access guard, or plaintext and no guard with Insecure.
func (s *Server) grpcOptions(cfg Config) []grpc.ServerOption {
	opts := []grpc.ServerOption{grpc.MaxRecvMsgSize(64 << 20)}
	if cfg.Insecure {
		return append(opts, grpc.ChainUnaryInterceptor(s.metrics.unary))
	}
	g := &access.Guard{Policy: accessPolicy(), Tokens: s.access, Certs: s.access, Audit: s.access}
	return append(opts, grpc.Creds(credentials.NewTLS(cfg.TLS)),
		grpc.ChainUnaryInterceptor(s.metrics.unary, g.Unary), grpc.ChainStreamInterceptor(g.Stream))
}
