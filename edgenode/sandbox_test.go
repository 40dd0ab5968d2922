package edgenode

import (
	"context"
	"fmt"
	"testing"
	"time"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/sandbox/memcg/memcgtest"
)

// shortProfile keeps hostile-function tests fast.
func shortProfile() sandbox.Profile {
	p := sandbox.DefaultProfile()
	p.Viewer.Timeout = time.Second
	p.Origin.Timeout = time.Second
	return p
}

// fnVersion wraps one Go source file as a published version.
func fnVersion(name, src string) *edgelabv1.FunctionVersion {
	return &edgelabv1.FunctionVersion{Name: name, Version: 1, Sha256: fmt.Sprintf("%s-%d", name, len(src)),
		Files: []*edgelabv1.SourceFile{{Name: name + ".go", Content: []byte(src)}}}
}

const hdr = "package %s\n\nimport (\n\t\"context\"\n\t\"errors\"\n\t\"strings\"\n\n\t\"github.com/edgelab/edgelab/edge\"\n)\n\nvar _ = errors.New\nvar _ = strings.Repeat\n\n"

// The hostile functions run twice: with the RSS watchdog alone, and with
// a memory cgroup per worker where this machine lets the test create them
// (the kernel then stops bigalloc).
func TestHostileFunctionsThroughSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sandbox workers")
	}
	t.Run("watchdog", func(t *testing.T) { testHostileFunctions(t, "off") })
	t.Run("cgroup", func(t *testing.T) {
		memcgtest.Need(t)
		testHostileFunctions(t, "auto")
	})
}

func testHostileFunctions(t *testing.T, memoryCgroup string) {
	cases := []struct {
		name   string
		event  edgelabv1.EventType
		body   string // function body after the package header
		status int
		xcache string
	}{
		{"viewerloop", evVR, "func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {\n\tfor {\n\t}\n}\n", 503, "LambdaExecutionError"},
		{"originloop", evOReq, "func OriginRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {\n\tn := 0\n\tfor {\n\t\tn++\n\t}\n}\n", 503, "LambdaExecutionError"},
		{"recursion", evVR, "func f(n int) int { return f(n+1) + 1 }\n\nfunc ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {\n\tf(0)\n\treturn nil, nil\n}\n", 503, "LambdaExecutionError"},
		{"bigalloc", evVR, "func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {\n\tb := make([]byte, 1<<30)\n\tfor i := 0; i < len(b); i += 4096 {\n\t\tb[i] = 1\n\t}\n\treturn nil, nil\n}\n", 503, "LambdaExecutionError"},
		{"panics", evVR, "func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {\n\tpanic(\"boom\")\n}\n", 503, "LambdaExecutionError"},
		{"returnserr", evVR, "func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {\n\treturn nil, errors.New(\"nope\")\n}\n", 503, "LambdaExecutionError"},
		{"readonly", evVR, "func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {\n\treq.Header.Set(\"Via\", \"evil\")\n\treturn nil, nil\n}\n", 502, "LambdaValidationError"},
		{"bigbody", evVR, "func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {\n\treturn &edge.Response{Status: 200, Body: []byte(strings.Repeat(\"x\", 50<<10))}, nil\n}\n", 502, "LambdaValidationError"},
		{"nocontentbody", evVR, "func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {\n\treturn &edge.Response{Status: 204, Body: []byte(\"x\")}, nil\n}\n", 502, "LambdaValidationError"},
		{"status700", evVR, "func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {\n\treturn &edge.Response{Status: 700}, nil\n}\n", 502, "LambdaValidationError"},
		{"fine", evVR, "func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {\n\treq.Header.Set(\"X-Fine\", \"1\")\n\treturn nil, nil\n}\n", 200, "Miss"},
	}
	o := startOrigin(t, "o")
	n := startNode(t, nil, func(c *Config) { c.Profile = shortProfile(); c.MemoryCgroup = memoryCgroup })
	d := &edgelabv1.Distribution{Id: "d", Domains: []string{"*"}, Origins: []*edgelabv1.Origin{{Id: "o1", Url: o.URL()}}}
	snap := &edgelabv1.Snapshot{Revision: 1, Distributions: []*edgelabv1.Distribution{d}}
	for _, c := range cases {
		d.Behaviors = append(d.Behaviors, &edgelabv1.Behavior{Path: "/echo/" + c.name + "/*", Origin: "o1",
			Functions: []*edgelabv1.Association{{EventType: c.event, Function: c.name, Version: 1}}})
		snap.Functions = append(snap.Functions, fnVersion(c.name, fmt.Sprintf(hdr, c.name)+c.body))
	}
	d.Behaviors = append(d.Behaviors, &edgelabv1.Behavior{Path: "default", Origin: "o1"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.Apply(ctx, snap, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, n, "GET", "/echo/"+c.name+"/x?cc=max-age%3D60", nil, "")
			if r.status != c.status || xcache(r) != c.xcache {
				t.Fatalf("got %d %q, want %d %q (body %.200q)", r.status, xcache(r), c.status, c.xcache, r.body)
			}
			if got := r.header.Get("X-Edgelab-Functions"); got == "" {
				t.Errorf("X-Edgelab-Functions missing")
			}
			// The node keeps serving normally right after.
			if r := do(t, n, "GET", "/gen/after-"+c.name, nil, ""); r.status != 200 || xcache(r) != "Miss" {
				t.Fatalf("normal request after %s: %d %q", c.name, r.status, xcache(r))
			}
			// And the same function works again for well-behaved ones.
			if c.status == 200 {
				if r := do(t, n, "GET", "/echo/"+c.name+"/x?cc=max-age%3D60", nil, ""); r.status != 200 || xcache(r) != "Hit" {
					t.Fatalf("second call: %d %q", r.status, xcache(r))
				}
			}
		})
	}
}

func TestApplyNackKeepsPreviousStateWithSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sandbox workers")
	}
	o := startOrigin(t, "o")
	n := startNode(t, nil, func(c *Config) { c.Profile = shortProfile() })
	good := fnVersion("tag", fmt.Sprintf(hdr, "tag")+"func ViewerResponse(ctx context.Context, req *edge.Request, resp *edge.Response) error {\n\tresp.Header.Set(\"X-Tag\", \"v1\")\n\treturn nil\n}\n")
	snap1 := snapshot(1, o.URL(), "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{assoc(evVRes, "tag")}})
	snap1.Functions = []*edgelabv1.FunctionVersion{good}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.Apply(ctx, snap1, nil); err != nil {
		t.Fatal(err)
	}
	if r := do(t, n, "GET", "/gen/a", nil, ""); r.header.Get("X-Tag") != "v1" {
		t.Fatalf("v1 not applied: %v", r.header)
	}
	bad := fnVersion("tag2", "package tag2\n\nfunc ViewerResponse( {\n")
	snap2 := snapshot(2, o.URL(), "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{{EventType: evVRes, Function: "tag2", Version: 1}}})
	snap2.Functions = []*edgelabv1.FunctionVersion{bad}
	err := n.Apply(ctx, snap2, nil)
	if err == nil {
		t.Fatal("Apply of a version that does not compile succeeded")
	}
	t.Logf("NACK: %v", err)
	if n.Revision() != 1 {
		t.Fatalf("revision %d after NACK, want 1", n.Revision())
	}
	if r := do(t, n, "GET", "/gen/b", nil, ""); r.status != 200 || r.header.Get("X-Tag") != "v1" {
		t.Fatalf("previous state not served after NACK: %d %v", r.status, r.header)
	}
}
