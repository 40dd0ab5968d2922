package controlplane_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/edgelab/edgelab/controlplane"
	"github.com/edgelab/edgelab/distribution"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

func TestMain(m *testing.M) {
	sandbox.MaybeRunWorker()
	os.Exit(m.Run())
}

const authSrc = `package auth

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

// ViewerRequest marks the request.
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	req.Header.Set("X-Auth", "ok")
	return nil, nil
}
`

const headersSrc = `package headers

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

func OriginResponse(ctx context.Context, req *edge.Request, resp *edge.Response) error {
	resp.Header.Set("X-Frame-Options", "DENY")
	return nil
}
`

// cpEnv is one embedded etcd with control planes on it.
type cpEnv struct {
	t         *testing.T
	endpoints []string
}

func newEnv(t *testing.T) *cpEnv {
	t.Helper()
	eps, stop, err := controlplane.StartEmbeddedEtcd(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return &cpEnv{t: t, endpoints: eps}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// start runs a control plane until the test ends and returns a client.
func startServer(t *testing.T, cfg controlplane.Config) (*controlplane.Server, edgelabv1.ControlPlaneServiceClient) {
	t.Helper()
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:0"
	}
	cfg.Logger = quiet()
	if cfg.TLS == nil {
		cfg.Insecure = true // these tests are about the API; access_test.go covers TLS and roles
	}
	s, err := controlplane.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		s.Close()
	})
	conn, err := grpc.NewClient(s.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return s, edgelabv1.NewControlPlaneServiceClient(conn)
}

func (e *cpEnv) server(cfg controlplane.Config) (*controlplane.Server, edgelabv1.ControlPlaneServiceClient) {
	cfg.EtcdEndpoints = e.endpoints
	return startServer(e.t, cfg)
}

func files(name, src string) []*edgelabv1.SourceFile {
	return []*edgelabv1.SourceFile{{Name: name, Content: []byte(src)}}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustCreatePublish(t *testing.T, c edgelabv1.ControlPlaneServiceClient, name, src string) int64 {
	t.Helper()
	ctx := ctxT(t)
	if _, err := c.CreateFunction(ctx, &edgelabv1.CreateFunctionRequest{Name: name, Files: files(name+".go", src)}); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	p, err := c.PublishFunction(ctx, &edgelabv1.PublishFunctionRequest{Name: name})
	if err != nil {
		t.Fatalf("publish %s: %v", name, err)
	}
	return p.GetVersion().GetVersion()
}

func parseDist(t *testing.T, y string) *edgelabv1.Distribution {
	t.Helper()
	d, err := distribution.Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const demo = `
id: demo
domains: ["*"]
origins: [{id: web, url: "http://127.0.0.1:9"}]
behaviors:
  - path: "/api/*"
    origin: web
    functions:
      viewer-request: {function: auth, version: 1}
      origin-response: {function: headers, version: 1}
  - {path: default, origin: web}
`

func TestHealthAndMetrics(t *testing.T) {
	env := newEnv(t)
	s, c := env.server(controlplane.Config{MetricsAddr: "127.0.0.1:0"})
	conn, err := grpc.NewClient(s.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc, err := healthpb.NewHealthClient(conn).Check(ctxT(t), &healthpb.HealthCheckRequest{})
	if err != nil || hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", hc, err)
	}
	if _, err := c.ListFunctions(ctxT(t), &edgelabv1.ListFunctionsRequest{}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `edgelab_controlplane_rpcs_total{code="OK",method="/edgelab.v1.ControlPlaneService/ListFunctions"} 1`) {
		t.Fatalf("metrics do not count the RPC:\n%s", body)
	}
}

func TestLifecycleAndRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := ctxT(t)
	func() {
		// First life: an embedded etcd owned by the server.
		s, err := controlplane.New(controlplane.Config{ListenAddr: "127.0.0.1:0", EtcdDataDir: dir, Logger: quiet(), Insecure: true})
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(rctx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}()
		conn, err := grpc.NewClient(s.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		c := edgelabv1.NewControlPlaneServiceClient(conn)
		if v := mustCreatePublish(t, c, "auth", authSrc); v != 1 {
			t.Fatalf("auth version %d", v)
		}
		if v := mustCreatePublish(t, c, "headers", headersSrc); v != 1 {
			t.Fatalf("headers version %d", v)
		}
		if _, err := c.ApplyDistribution(ctx, &edgelabv1.ApplyDistributionRequest{Distribution: parseDist(t, demo)}); err != nil {
			t.Fatal(err)
		}
	}()
	// Second life on the same data dir.
	_, c := startServer(t, controlplane.Config{EtcdDataDir: dir})
	got, err := c.GetDistribution(ctx, &edgelabv1.GetDistributionRequest{Id: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	if fns := got.GetDistribution().GetBehaviors()[0].GetFunctions(); len(fns) != 2 || fns[0].GetFunction() != "auth" {
		t.Fatalf("distribution after restart: %v", got)
	}
	fn, err := c.GetFunction(ctx, &edgelabv1.GetFunctionRequest{Name: "auth", Version: 1, IncludeCode: true})
	if err != nil {
		t.Fatal(err)
	}
	if string(fn.GetVersion().GetFiles()[0].GetContent()) != authSrc || len(fn.GetVersions()) != 1 {
		t.Fatalf("function after restart: %v", fn)
	}
}

// Concurrent publishes from several goroutines against two control planes
// on one etcd give versions 1..N with no gap or duplicate.
func TestConcurrentPublishTwoControlPlanes(t *testing.T) {
	env := newEnv(t)
	noCheck := controlplane.CheckerFunc(func(context.Context, sandbox.Code) error { return nil })
	_, c1 := env.server(controlplane.Config{Checker: noCheck})
	_, c2 := env.server(controlplane.Config{Checker: noCheck})
	ctx := ctxT(t)
	if _, err := c1.CreateFunction(ctx, &edgelabv1.CreateFunctionRequest{Name: "auth", Files: files("auth.go", authSrc)}); err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 10, 6
	var mu sync.Mutex
	var got []int64
	var wg sync.WaitGroup
	errc := make(chan error, goroutines)
	for g := range goroutines {
		c := c1
		if g%2 == 1 {
			c = c2
		}
		wg.Go(func() {
			for range each {
				p, err := c.PublishFunction(ctx, &edgelabv1.PublishFunctionRequest{Name: "auth"})
				if err != nil {
					errc <- err
					return
				}
				mu.Lock()
				got = append(got, p.GetVersion().GetVersion())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	if len(got) != goroutines*each {
		t.Fatalf("%d publishes, want %d", len(got), goroutines*each)
	}
	for i, v := range got {
		if v != int64(i+1) {
			t.Fatalf("versions %v: gap or duplicate at index %d", got, i)
		}
	}
	fn, err := c2.GetFunction(ctx, &edgelabv1.GetFunctionRequest{Name: "auth"})
	if err != nil || fn.GetFunction().GetLatestVersion() != goroutines*each || len(fn.GetVersions()) != goroutines*each {
		t.Fatalf("function: %v %v", fn, err)
	}
}

func TestFunctionErrors(t *testing.T) {
	env := newEnv(t)
	_, c := env.server(controlplane.Config{})
	mustCreatePublish(t, c, "auth", authSrc)
	mustCreatePublish(t, c, "headers", headersSrc)
	ctx := ctxT(t)
	for _, tc := range []struct {
		name string
		call func() error
		code codes.Code
		msg  string
	}{
		{"syntax", func() error {
			_, err := c.CreateFunction(ctx, &edgelabv1.CreateFunctionRequest{Name: "bad", Files: files("bad.go", "package bad\nfunc {")})
			return err
		}, codes.InvalidArgument, "function bad: bad.go:2:6: syntax error: expected 'IDENT', found '{'"},
		{"disallowed import", func() error {
			_, err := c.CreateFunction(ctx, &edgelabv1.CreateFunctionRequest{Name: "bad", Files: files("bad.go", strings.Replace(authSrc, `"context"`, "\"context\"\n\t\"os\"", 1)+"\nvar _ = os.Args\n")})
			return err
		}, codes.InvalidArgument, "function bad: bad.go:5:2: import \"os\" is not allowed in edge functions: there is no file system or environment at the edge; log with edge.Log"},
		{"go statement", func() error {
			_, err := c.CreateFunction(ctx, &edgelabv1.CreateFunctionRequest{Name: "bad", Files: files("bad.go", authSrc+"\nfunc spin() { go spin() }\n")})
			return err
		}, codes.InvalidArgument, "function bad: bad.go:15:15: go statements are not allowed in edge functions: a handler must finish its work before it returns"},
		{"no entry point", func() error {
			_, err := c.CreateFunction(ctx, &edgelabv1.CreateFunctionRequest{Name: "bad", Files: files("bad.go", "package bad\n\nfunc Helper() {}\n")})
			return err
		}, codes.InvalidArgument, "function bad: package bad exports no entry point: declare ViewerRequest, OriginRequest, OriginResponse or ViewerResponse"},
		{"wrong signature", func() error {
			_, err := c.CreateFunction(ctx, &edgelabv1.CreateFunctionRequest{Name: "bad", Files: files("bad.go", "package bad\n\nimport \"context\"\n\nfunc ViewerRequest(ctx context.Context) error { return nil }\n")})
			return err
		}, codes.InvalidArgument, "function bad: bad.go:5:1: ViewerRequest has the wrong signature func(ctx context.Context) error; want func(ctx context.Context, req *edge.Request) (*edge.Response, error)"},
		{"init loop", func() error {
			_, err := c.CreateFunction(ctx, &edgelabv1.CreateFunctionRequest{Name: "bad", Files: files("bad.go", authSrc+"\nfunc init() { for {} }\n")})
			return err
		}, codes.InvalidArgument, ""},
		{"bad name", func() error {
			_, err := c.CreateFunction(ctx, &edgelabv1.CreateFunctionRequest{Name: "../etc", Files: files("a.go", authSrc)})
			return err
		}, codes.InvalidArgument, `function name "../etc": invalid name: use 1-64 letters, digits, '-' or '_', starting with a letter or digit`},
		{"exists", func() error {
			_, err := c.CreateFunction(ctx, &edgelabv1.CreateFunctionRequest{Name: "auth", Files: files("auth.go", authSrc)})
			return err
		}, codes.AlreadyExists, `function "auth": already exists`},
		{"memory", func() error {
			_, err := c.CreateFunction(ctx, &edgelabv1.CreateFunctionRequest{Name: "m", Config: &edgelabv1.FunctionConfig{MemoryMb: 64}, Files: files("a.go", authSrc)})
			return err
		}, codes.InvalidArgument, "function m: memory 64 MB is out of range (128-10240 MB, or 0 for the event type's default)"},
		{"publish unknown", func() error {
			_, err := c.PublishFunction(ctx, &edgelabv1.PublishFunctionRequest{Name: "nope"})
			return err
		}, codes.NotFound, `function "nope": not found`},
		{"get unknown version", func() error {
			_, err := c.GetFunction(ctx, &edgelabv1.GetFunctionRequest{Name: "auth", Version: 7})
			return err
		}, codes.NotFound, `function "auth" version 7: not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			st := status.Convert(err)
			if err == nil || st.Code() != tc.code {
				t.Fatalf("got %v, want code %v", err, tc.code)
			}
			// The init-loop message comes from the sandbox's compile timeout; check its gist.
			if tc.msg == "" && !strings.Contains(st.Message(), "took longer than") {
				t.Fatalf("message %q does not explain the timeout", st.Message())
			}
			if tc.msg != "" && st.Message() != tc.msg {
				t.Fatalf("message\n%s\nwant\n%s", st.Message(), tc.msg)
			}
			t.Logf("%s: %s", st.Code(), st.Message())
		})
	}
	// Nothing was stored by the failures.
	list, err := c.ListFunctions(ctx, &edgelabv1.ListFunctionsRequest{})
	if err != nil || len(list.GetFunctions()) != 2 {
		t.Fatalf("functions after failures: %v %v", list, err)
	}
}

func TestDistributionErrors(t *testing.T) {
	env := newEnv(t)
	noCheck := controlplane.CheckerFunc(func(context.Context, sandbox.Code) error { return nil })
	_, c := env.server(controlplane.Config{Checker: noCheck})
	mustCreatePublish(t, c, "auth", authSrc)
	mustCreatePublish(t, c, "headers", headersSrc)
	ctx := ctxT(t)
	apply := func(y string) error {
		d, err := distribution.Parse([]byte(y))
		if err != nil {
			return err
		}
		_, err = c.ApplyDistribution(ctx, &edgelabv1.ApplyDistributionRequest{Distribution: d})
		return err
	}
	withFns := func(fns string) string {
		return strings.Replace(demo, `      viewer-request: {function: auth, version: 1}
      origin-response: {function: headers, version: 1}`, fns, 1)
	}
	for _, tc := range []struct {
		name string
		err  error
		code codes.Code
		msg  string
	}{
		{"unknown function", apply(withFns("      viewer-request: {function: nope, version: 1}")), codes.InvalidArgument,
			`behaviors[0].functions.viewer-request: function "nope" version 1 does not exist`},
		{"unknown version", apply(withFns("      viewer-request: {function: auth, version: 3}")), codes.InvalidArgument,
			`behaviors[0].functions.viewer-request: function "auth" version 3 does not exist`},
		{"entry point not exported", apply(withFns("      origin-request: {function: auth, version: 1}")), codes.InvalidArgument,
			`behaviors[0].functions.origin-request: function "auth" version 1 does not export OriginRequest (it exports: ViewerRequest)`},
		{"duplicate event type (proto)", func() error {
			d := parseDist(t, demo)
			d.Behaviors[0].Functions[1].EventType = edgelabv1.EventType_EVENT_TYPE_VIEWER_REQUEST
			_, err := c.ApplyDistribution(ctx, &edgelabv1.ApplyDistributionRequest{Distribution: d})
			return err
		}(), codes.InvalidArgument, `behaviors[0].functions.viewer-request: duplicate association: at most one function per event type`},
		{"$LATEST (proto version 0)", func() error {
			d := parseDist(t, demo)
			d.Behaviors[0].Functions[0].Version = 0
			_, err := c.ApplyDistribution(ctx, &edgelabv1.ApplyDistributionRequest{Distribution: d})
			return err
		}(), codes.InvalidArgument, `behaviors[0].functions.viewer-request: function auth: version 0: only numbered versions (1, 2, ...) can be associated`},
		{"bad pattern", func() error {
			d := parseDist(t, demo)
			d.Behaviors[0].Path = "api/*"
			_, err := c.ApplyDistribution(ctx, &edgelabv1.ApplyDistributionRequest{Distribution: d})
			return err
		}(), codes.InvalidArgument, `behaviors[0].path: path pattern "api/*" must start with "/" or "*" (or be "default")`},
		{"unknown origin", func() error {
			d := parseDist(t, demo)
			d.Behaviors[1].Origin = "elsewhere"
			_, err := c.ApplyDistribution(ctx, &edgelabv1.ApplyDistributionRequest{Distribution: d})
			return err
		}(), codes.InvalidArgument, `behaviors[1].origin: unknown origin or origin group "elsewhere"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := status.Convert(tc.err)
			if tc.err == nil || st.Code() != tc.code || st.Message() != tc.msg {
				t.Fatalf("got %v (%v)\nwant %v %s", tc.err, st.Code(), tc.code, tc.msg)
			}
		})
	}
	// Nothing stored by the failures.
	if _, err := c.GetDistribution(ctx, &edgelabv1.GetDistributionRequest{Id: "demo"}); status.Code(err) != codes.NotFound {
		t.Fatalf("distribution stored despite failures: %v", err)
	}
	// Apply, then the referenced version cannot be deleted.
	if err := apply(demo); err != nil {
		t.Fatal(err)
	}
	_, err := c.DeleteFunction(ctx, &edgelabv1.DeleteFunctionRequest{Name: "auth", Version: 1})
	want := `function auth version 1 is referenced by distribution "demo" (behavior "/api/*", viewer-request); remove the association first`
	if st := status.Convert(err); st.Code() != codes.FailedPrecondition || st.Message() != want {
		t.Fatalf("delete referenced: %v", err)
	}
	if _, err := c.DeleteFunction(ctx, &edgelabv1.DeleteFunctionRequest{Name: "auth"}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("delete referenced function: %v", err)
	}
	inv, err := c.CreateInvalidation(ctx, &edgelabv1.CreateInvalidationRequest{DistributionId: "demo", Paths: []string{"/api/*"}})
	if err != nil || inv.GetInvalidation().GetRevision() == 0 {
		t.Fatalf("invalidation: %v %v", inv, err)
	}
	if _, err := c.CreateInvalidation(ctx, &edgelabv1.CreateInvalidationRequest{DistributionId: "demo", Paths: []string{"api"}}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad invalidation path: %v", err)
	}
	if _, err := c.DeleteDistribution(ctx, &edgelabv1.DeleteDistributionRequest{Id: "demo"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteFunction(ctx, &edgelabv1.DeleteFunctionRequest{Name: "auth", Version: 1}); err != nil {
		t.Fatalf("delete after the distribution is gone: %v", err)
	}
	if _, err := c.DeleteDistribution(ctx, &edgelabv1.DeleteDistributionRequest{Id: "demo"}); status.Code(err) != codes.NotFound {
		t.Fatalf("delete twice: %v", err)
	}
}
