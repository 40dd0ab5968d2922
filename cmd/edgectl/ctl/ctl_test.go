package ctl_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/access"
	"github.com/edgelab/edgelab/cmd/edgectl/ctl"
	"github.com/edgelab/edgelab/controlplane"
	"github.com/edgelab/edgelab/pki"
	"github.com/edgelab/edgelab/sandbox"
)

const authSrc = `package auth

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	req.Header.Set("X-Auth", "ok")
	return nil, nil
}
`

const dist = `id: demo
domains: ["*"]
origins: [{id: web, url: "http://127.0.0.1:9"}]
behaviors:
  - path: "/api/*"
    origin: web
    functions:
      viewer-request: {function: auth, version: 1}
  - {path: default, origin: web}
`

func startCP(t *testing.T) string {
	t.Helper()
	return serveCP(t, controlplane.Config{Checker: controlplane.CheckerFunc(func(context.Context, sandbox.Code) error { return nil })})
}

// serveCP runs a control plane with TLS from a fresh lab CA and an admin
// token, and points edgectl at them through $EDGELAB_CA and
// $EDGELAB_TOKEN (as lab.json or `edgectl login` would).
func serveCP(t *testing.T, cfg controlplane.Config) string {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	src := pki.NewSource(ca, pki.Leaf{Identity: pki.Identity{Kind: pki.KindControlPlane, Name: "cp-test"}, Lifetime: time.Hour,
		IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	token := access.NewToken()
	cfg.ListenAddr, cfg.EtcdDataDir = "127.0.0.1:0", filepath.Join(dir, "etcd")
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.TLS, cfg.CA, cfg.AdminToken = pki.APIServerTLS(ca.Pool(), src), ca, token
	t.Setenv(ctl.CAEnv, filepath.Join(dir, "pki", pki.CACertFile))
	t.Setenv(ctl.TokenEnv, token)
	t.Setenv(ctl.ConfigEnv, filepath.Join(dir, "no-config.json"))
	s, err := controlplane.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		s.Close()
	})
	return s.Addr()
}

func run(t *testing.T, endpoint string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := ctl.Execute(context.Background(), append([]string{"--endpoint", endpoint}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func TestEdgectlAgainstServer(t *testing.T) {
	ep := startCP(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "auth")
	os.Mkdir(src, 0o755)
	os.WriteFile(filepath.Join(src, "auth.go"), []byte(authSrc), 0o644)
	os.WriteFile(filepath.Join(src, "auth_test.go"), []byte("package auth\nimport \"os\"\nvar _ = os.Args\n"), 0o644)
	distFile := filepath.Join(dir, "demo.yaml")
	os.WriteFile(distFile, []byte(dist), 0o644)
	latest := filepath.Join(dir, "latest.yaml")
	os.WriteFile(latest, []byte(strings.Replace(dist, "version: 1", "version: $LATEST", 1)), 0o644)
	missing := filepath.Join(dir, "missing.yaml")
	os.WriteFile(missing, []byte(strings.Replace(dist, "version: 1", "version: 9", 1)), 0o644)

	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		out, err string // substrings
	}{
		{"create", []string{"function", "create", "auth", "--source", src}, 0, "function auth created", ""},
		{"create again", []string{"function", "create", "auth", "--source", src}, 1, "", `Error: function "auth": already exists`},
		{"publish", []string{"function", "publish", "auth"}, 0, "1\n", ""},
		{"apply $LATEST", []string{"distribution", "apply", "-f", latest}, 1, "",
			`function auth: version "$LATEST": only numbered versions can be associated`},
		{"apply missing version", []string{"distribution", "apply", "-f", missing}, 1, "",
			`Error: behaviors[0].functions.viewer-request: function "auth" version 9 does not exist`},
		{"apply", []string{"distribution", "apply", "-f", distFile}, 0, "distribution demo created", ""},
		{"re-apply", []string{"distribution", "apply", "-f", distFile}, 0, "distribution demo configured", ""},
		{"get yaml", []string{"distribution", "get", "demo", "-o", "yaml"}, 0, "viewer-request:\n      function: auth\n      version: 1", ""},
		{"get table", []string{"distribution", "get", "demo"}, 0, "viewer-request=auth:1", ""},
		{"get json", []string{"distribution", "get", "demo", "-o", "json"}, 0, `"id": "demo"`, ""},
		{"list", []string{"distribution", "list"}, 0, "demo", ""},
		{"function list", []string{"function", "list"}, 0, "auth  1       viewer-request", ""},
		{"function get", []string{"function", "get", "auth:1", "--code"}, 0, "req.Header.Set", ""},
		{"function get skips tests", []string{"function", "get", "auth"}, 0, "Files:        auth.go\n", ""},
		{"delete referenced", []string{"function", "delete", "auth:1"}, 1, "",
			`Error: function auth version 1 is referenced by distribution "demo" (behavior "/api/*", viewer-request); remove the association first`},
		{"bad ref", []string{"function", "get", "auth:latest"}, 2, "", "the version must be a number"},
		{"missing arg", []string{"function", "publish"}, 2, "", "expected NAME"},
		{"invalidate", []string{"invalidate", "demo", "/api/*"}, 0, "invalidation", ""},
		{"unknown distribution", []string{"distribution", "get", "nope"}, 1, "", `Error: distribution "nope": not found`},
		{"delete distribution", []string{"distribution", "delete", "demo"}, 0, "deleted distribution demo", ""},
		{"delete version", []string{"function", "delete", "auth:1"}, 0, "deleted auth version 1", ""},
		{"version", []string{"version"}, 0, "edgectl ", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, ep, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Fatalf("edgectl %v: code %d, stdout:\n%s\nstderr:\n%s\nwant code %d, stdout ~ %q, stderr ~ %q",
					tc.args, code, out, errOut, tc.code, tc.out, tc.err)
			}
		})
	}
}

func TestEndpointFallback(t *testing.T) {
	ep := startCP(t)
	// A dead endpoint first: edgectl tries the next one.
	out, errOut, code := run(t, "127.0.0.1:1,"+ep, "function", "list")
	if code != 0 || !strings.Contains(out, "NAME") {
		t.Fatalf("code %d\n%s\n%s", code, out, errOut)
	}
	_, errOut, code = run(t, "127.0.0.1:1", "function", "list")
	if code != 1 || !strings.Contains(errOut, "no control plane reachable") {
		t.Fatalf("dead endpoint: code %d, %s", code, errOut)
	}
}

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		in   string
		name string
		v    int64
		ok   bool
	}{{"auth", "auth", 0, true}, {"auth:3", "auth", 3, true}, {"auth:0", "", 0, false}, {"auth:$LATEST", "", 0, false}, {":1", "", 0, false}} {
		n, v, err := ctl.ParseRef(tc.in)
		if (err == nil) != tc.ok || n != tc.name || v != tc.v {
			t.Errorf("ParseRef(%q) = %q, %d, %v", tc.in, n, v, err)
		}
	}
}

func TestEdgectlWithoutATokenIsRefused(t *testing.T) {
	ep := startCP(t)
	t.Setenv(ctl.TokenEnv, "")
	_, errOut, code := run(t, ep, "function", "list")
	if code == 0 || !strings.Contains(errOut, "no credentials") {
		t.Fatalf("edgectl without a token: exit %d, %q", code, errOut)
	}
	t.Setenv(ctl.TokenEnv, "edgelab_not-a-real-token")
	if _, errOut, code = run(t, ep, "function", "list"); code == 0 || !strings.Contains(errOut, "unknown or was revoked") {
		t.Fatalf("edgectl with a forged token: exit %d, %q", code, errOut)
	}
}

func TestEdgectlTokenRolesAndAudit(t *testing.T) {
	ep := startCP(t)
	out, errOut, code := run(t, ep, "token", "create", "reader", "--role", "viewer")
	if code != 0 {
		t.Fatalf("token create: %s", errOut)
	}
	admin := os.Getenv(ctl.TokenEnv)
	t.Setenv(ctl.TokenEnv, strings.TrimSpace(out))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "auth.go"), []byte(authSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code = run(t, ep, "function", "create", "auth", "--source", dir); code == 0 || !strings.Contains(errOut, "needs role publisher") {
		t.Fatalf("a viewer created a function: exit %d, %q", code, errOut)
	}
	t.Setenv(ctl.TokenEnv, admin)
	if out, errOut, code = run(t, ep, "audit"); code != 0 || !strings.Contains(out, "CreateToken") || !strings.Contains(out, "reader") {
		t.Fatalf("audit: exit %d, %q %q", code, out, errOut)
	}
}
