package controlplane_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/edgelab/edgelab/access"
	"github.com/edgelab/edgelab/controlplane"
	"github.com/edgelab/edgelab/internal/poll"
	"github.com/edgelab/edgelab/pki"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

// secureCP is a control plane serving mutual TLS from a fresh lab CA, with
// an admin token.
type secureCP struct {
	t     *testing.T
	addr  string
	ca    *pki.CA
	admin string
	// dashboard is the base URL of the replica's dashboard.
	dashboard string
}

func startSecure(t *testing.T) *secureCP {
	t.Helper()
	ca, err := pki.LoadOrCreateCA(filepath.Join(t.TempDir(), "pki"))
	if err != nil {
		t.Fatal(err)
	}
	src := pki.NewSource(ca, pki.Leaf{Identity: pki.Identity{Kind: pki.KindControlPlane, Name: "cp1"}, Lifetime: time.Hour, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	admin := access.NewToken()
	s, _ := newEnv(t).server(controlplane.Config{TLS: pki.APIServerTLS(ca.Pool(), src), CA: ca, AdminToken: admin, Checker: controlplane.CheckerFunc(func(context.Context, sandbox.Code) error { return nil }),
		DelayProfile: "instant", MetricsAddr: "127.0.0.1:0"})
	return &secureCP{t: t, addr: s.Addr(), ca: ca, admin: admin, dashboard: "http://" + s.MetricsAddr()}
}

func (c *secureCP) dial(cl access.Client) *grpc.ClientConn {
	c.t.Helper()
	if cl.Pool == nil && !cl.Insecure {
		cl.Pool = c.ca.Pool()
	}
	opts, err := cl.DialOptions()
	if err != nil {
		c.t.Fatal(err)
	}
	conn, err := grpc.NewClient(c.addr, opts...)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { conn.Close() })
	return conn
}

func (c *secureCP) token(name, role string) string {
	c.t.Helper()
	resp, err := edgelabv1.NewAccessServiceClient(c.dial(access.Client{Token: c.admin})).CreateToken(context.Background(),
		&edgelabv1.CreateTokenRequest{Name: name, Role: role})
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.Token
}

// nodeCert is a certificate for node id in region, valid on 127.0.0.1.
func (c *secureCP) nodeCert(id, region string) pki.CertSource {
	return pki.NewSource(c.ca, pki.Leaf{Identity: pki.Identity{Kind: pki.KindNode, Region: region, Name: id}, Lifetime: time.Hour,
		IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
}

func wantCode(t *testing.T, err error, code codes.Code, contains string) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("got %v, want %s", err, code)
	}
	if !strings.Contains(status.Convert(err).Message(), contains) {
		t.Fatalf("message %q does not say %q", status.Convert(err).Message(), contains)
	}
}

func TestCallWithoutCredentialsIsUnauthenticated(t *testing.T) {
	cp := startSecure(t)
	_, err := edgelabv1.NewControlPlaneServiceClient(cp.dial(access.Client{})).ListFunctions(context.Background(), &edgelabv1.ListFunctionsRequest{})
	wantCode(t, err, codes.Unauthenticated, "no credentials")
	_, err = edgelabv1.NewControlPlaneServiceClient(cp.dial(access.Client{Token: "edgelab_forged"})).ListFunctions(context.Background(), &edgelabv1.ListFunctionsRequest{})
	wantCode(t, err, codes.Unauthenticated, "unknown or was revoked")
}

func TestPlaintextClientCannotTalkToATLSServer(t *testing.T) {
	cp := startSecure(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := edgelabv1.NewControlPlaneServiceClient(cp.dial(access.Client{Insecure: true, Token: cp.admin})).ListFunctions(ctx, &edgelabv1.ListFunctionsRequest{})
	if err == nil {
		t.Fatal("a plaintext client was served by a TLS control plane")
	}
}

func TestViewerTokenCannotPublishAndTheAuditLogHasThePublish(t *testing.T) {
	cp := startSecure(t)
	ctx := context.Background()
	viewer := edgelabv1.NewControlPlaneServiceClient(cp.dial(access.Client{Token: cp.token("ci", "viewer")}))
	if _, err := viewer.ListFunctions(ctx, &edgelabv1.ListFunctionsRequest{}); err != nil {
		t.Fatalf("a viewer reads: %v", err)
	}
	_, err := viewer.CreateFunction(ctx, &edgelabv1.CreateFunctionRequest{Name: "auth", Files: files("auth.go", authSrc)})
	wantCode(t, err, codes.PermissionDenied, "needs role publisher")

	publisher := edgelabv1.NewControlPlaneServiceClient(cp.dial(access.Client{Token: cp.token("alice", "publisher")}))
	if _, err := publisher.CreateFunction(ctx, &edgelabv1.CreateFunctionRequest{Name: "auth", Files: files("auth.go", authSrc)}); err != nil {
		t.Fatal(err)
	}
	if _, err := publisher.PublishFunction(ctx, &edgelabv1.PublishFunctionRequest{Name: "auth"}); err != nil {
		t.Fatal(err)
	}
	_, err = edgelabv1.NewChaosServiceClient(cp.dial(access.Client{Token: cp.token("bob", "publisher")})).Inject(ctx, &edgelabv1.InjectRequest{})
	wantCode(t, err, codes.PermissionDenied, "needs role operator")

	_, err = edgelabv1.NewAccessServiceClient(cp.dial(access.Client{Token: cp.token("carol", "operator")})).ListAudit(ctx, &edgelabv1.ListAuditRequest{})
	wantCode(t, err, codes.PermissionDenied, "needs role admin")
	log, err := edgelabv1.NewAccessServiceClient(cp.dial(access.Client{Token: cp.admin})).ListAudit(ctx, &edgelabv1.ListAuditRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range log.Entries {
		if strings.HasSuffix(e.Method, "/PublishFunction") && e.Principal == "token:alice" && e.Target == "auth" && e.Code == "OK" {
			found = true
		}
	}
	if !found {
		t.Fatalf("audit log lacks alice's publish of auth: %v", log.Entries)
	}
}

func TestRevokedTokenIsRefused(t *testing.T) {
	cp := startSecure(t)
	ctx := context.Background()
	tok := cp.token("temp", "viewer")
	c := edgelabv1.NewControlPlaneServiceClient(cp.dial(access.Client{Token: tok}))
	if _, err := c.ListFunctions(ctx, &edgelabv1.ListFunctionsRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := edgelabv1.NewAccessServiceClient(cp.dial(access.Client{Token: cp.admin})).RevokeToken(ctx, &edgelabv1.RevokeTokenRequest{Name: "temp"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.ListFunctions(ctx, &edgelabv1.ListFunctionsRequest{})
	wantCode(t, err, codes.Unauthenticated, "revoked")
}

func TestBadTokenRequestsAreRefused(t *testing.T) {
	cp := startSecure(t)
	a := edgelabv1.NewAccessServiceClient(cp.dial(access.Client{Token: cp.admin}))
	for _, req := range []*edgelabv1.CreateTokenRequest{{Name: "x", Role: "root"}, {Name: "", Role: "viewer"}, {Name: "a/b", Role: "viewer"}} {
		_, err := a.CreateToken(context.Background(), req)
		wantCode(t, err, codes.InvalidArgument, "")
	}
	cp.token("dup", "viewer")
	_, err := a.CreateToken(context.Background(), &edgelabv1.CreateTokenRequest{Name: "dup", Role: "viewer"})
	wantCode(t, err, codes.AlreadyExists, "dup")
}

// openStream opens a replication stream and sends hello; it returns the
// first answer's error (nil when the control plane started sending state).
func openStream(t *testing.T, conn *grpc.ClientConn, hello *edgelabv1.Hello) (edgelabv1.ReplicationService_StreamClient, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := edgelabv1.NewReplicationServiceClient(conn).Stream(ctx)
	if err != nil {
		return nil, err
	}
	// A Send that finds the stream already ended by the server says only
	// io.EOF; the server's status comes from Recv, as grpc-go documents.
	if err := s.Send(&edgelabv1.StreamRequest{Msg: &edgelabv1.StreamRequest_Hello{Hello: hello}}); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	_, err = s.Recv()
	return s, err
}

func TestStreamNeedsTheNodesOwnCertificate(t *testing.T) {
	cp := startSecure(t)
	hello := &edgelabv1.Hello{NodeId: "edge-a", Region: "us-east-1", HttpUrl: "http://127.0.0.1:8080"}
	_, err := openStream(t, cp.dial(access.Client{}), hello)
	wantCode(t, err, codes.Unauthenticated, "")
	_, err = openStream(t, cp.dial(access.Client{Token: cp.admin}), hello)
	wantCode(t, err, codes.PermissionDenied, "needs role node")

	// Node B's certificate cannot speak (hello, acks) for node A.
	_, err = openStream(t, cp.dial(access.Client{Cert: cp.nodeCert("edge-b", "us-east-1")}), hello)
	wantCode(t, err, codes.PermissionDenied, "certificate is spiffe://edgelab/node/us-east-1/edge-b")
	// ... nor claim another region.
	_, err = openStream(t, cp.dial(access.Client{Cert: cp.nodeCert("edge-a", "eu-west-1")}), hello)
	wantCode(t, err, codes.PermissionDenied, "eu-west-1")
	// A real node cannot send the gateway's viewers to a host its certificate does not name.
	evil := &edgelabv1.Hello{NodeId: "edge-a", Region: "us-east-1", HttpUrl: "http://evil.example:8080"}
	_, err = openStream(t, cp.dial(access.Client{Cert: cp.nodeCert("edge-a", "us-east-1")}), evil)
	wantCode(t, err, codes.PermissionDenied, "evil.example")

	if _, err := openStream(t, cp.dial(access.Client{Cert: cp.nodeCert("edge-a", "us-east-1")}), hello); err != nil {
		t.Fatalf("the node's own certificate: %v", err)
	}
}

func TestCertificateFromAnotherCAIsRefused(t *testing.T) {
	cp := startSecure(t)
	other, err := pki.LoadOrCreateCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rogue := pki.NewSource(other, pki.Leaf{Identity: pki.Identity{Kind: pki.KindNode, Region: "us-east-1", Name: "edge-a"}, Lifetime: time.Hour})
	_, err = openStream(t, cp.dial(access.Client{Cert: rogue}), &edgelabv1.Hello{NodeId: "edge-a", Region: "us-east-1"})
	if err == nil {
		t.Fatal("a certificate from another CA opened the stream")
	}
}

func TestRemovedNodeIsRefusedUntilEnrolledAgain(t *testing.T) {
	cp := startSecure(t)
	ctx := context.Background()
	ops := edgelabv1.NewAccessServiceClient(cp.dial(access.Client{Token: cp.token("ops", "operator")}))
	enrolled, err := ops.EnrollNode(ctx, &edgelabv1.EnrollNodeRequest{NodeId: "edge-9", Region: "eu-west-1", Ips: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(enrolled.CertPem, enrolled.KeyPem)
	if err != nil {
		t.Fatal(err)
	}
	hello := &edgelabv1.Hello{NodeId: "edge-9", Region: "eu-west-1", HttpUrl: "http://127.0.0.1:1"}
	if _, err := openStream(t, cp.dial(access.Client{Cert: fixedCert{&cert}}), hello); err != nil {
		t.Fatalf("an enrolled node: %v", err)
	}
	if _, err := ops.RemoveNode(ctx, &edgelabv1.RemoveNodeRequest{NodeId: "edge-9"}); err != nil {
		t.Fatal(err)
	}
	_, err = openStream(t, cp.dial(access.Client{Cert: fixedCert{&cert}}), hello)
	wantCode(t, err, codes.PermissionDenied, "was removed")
	again, err := ops.EnrollNode(ctx, &edgelabv1.EnrollNodeRequest{NodeId: "edge-9", Region: "eu-west-1", Ips: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	cert2, _ := tls.X509KeyPair(again.CertPem, again.KeyPem)
	if _, err := openStream(t, cp.dial(access.Client{Cert: fixedCert{&cert2}}), hello); err != nil {
		t.Fatalf("re-enrolled node: %v", err)
	}
	_, err = ops.EnrollNode(ctx, &edgelabv1.EnrollNodeRequest{NodeId: "edge-10", Region: "eu-west-1", Ips: []string{"not-an-ip"}})
	wantCode(t, err, codes.InvalidArgument, "not-an-ip")
}

func TestNewerStreamOfANodeReplacesTheOlder(t *testing.T) {
	cp := startSecure(t)
	hello := &edgelabv1.Hello{NodeId: "edge-a", Region: "us-east-1", HttpUrl: "http://127.0.0.1:8080"}
	cert := cp.nodeCert("edge-a", "us-east-1")
	older, err := openStream(t, cp.dial(access.Client{Cert: cert}), hello)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openStream(t, cp.dial(access.Client{Cert: cert}), hello); err != nil {
		t.Fatal(err)
	}
	var endErr error
	for endErr == nil {
		_, endErr = older.Recv()
	}
	wantCode(t, endErr, codes.Aborted, "replaced by a newer stream")
	nodes := edgelabv1.NewControlPlaneServiceClient(cp.dial(access.Client{Token: cp.admin}))
	// The older stream's end never removes the newer session.
	poll.True(t, 10*time.Second, "edge-a listed as connected", func() bool {
		resp, err := nodes.ListNodes(context.Background(), &edgelabv1.ListNodesRequest{})
		if err != nil {
			return false
		}
		for _, n := range resp.Nodes {
			if n.Id == "edge-a" && n.Connected {
				return true
			}
		}
		return false
	})
}

// fixedCert presents one certificate.
type fixedCert struct{ c *tls.Certificate }

func (f fixedCert) Certificate() (*tls.Certificate, error) { return f.c, nil }

// The dashboard's chaos actions are audited as gRPC calls are: who, what,
// on what and the result; a refused caller changes nothing.
func TestDashboardChaosActionsAreAudited(t *testing.T) {
	cp := startSecure(t)
	post := func(path, token, body string) int {
		req, _ := http.NewRequest(http.MethodPost, cp.dashboard+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	inject := `{"id":"d1","kind":"kill","target":"node:edge-a","duration":"1m"}`
	if code := post("/api/chaos/inject", cp.token("viewer1", "viewer"), inject); code != http.StatusForbidden {
		t.Fatalf("inject with a viewer token: HTTP %d, want 403", code)
	}
	op := cp.token("oscar", "operator")
	if code := post("/api/chaos/inject", op, inject); code != http.StatusOK {
		t.Fatalf("inject with an operator token: HTTP %d, want 200", code)
	}
	if code := post("/api/chaos/heal", op, `{"id":"d1"}`); code != http.StatusOK {
		t.Fatalf("heal: HTTP %d, want 200", code)
	}
	log, err := edgelabv1.NewAccessServiceClient(cp.dial(access.Client{Token: cp.admin})).ListAudit(context.Background(), &edgelabv1.ListAuditRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range log.Entries {
		if strings.HasPrefix(e.Method, "dashboard/") {
			got[e.Method] = e.Principal + " " + e.Role + " " + e.Target + " " + e.Code
		}
	}
	want := map[string]string{
		"dashboard/inject": "token:oscar operator kill node:edge-a OK",
		"dashboard/heal":   "token:oscar operator d1 OK",
	}
	for m, w := range want {
		if got[m] != w {
			t.Errorf("audit %s = %q, want %q", m, got[m], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("dashboard audit entries %v, want only %v (the refused call ran nothing)", got, want)
	}
}
