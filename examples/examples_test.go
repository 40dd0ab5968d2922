package examples_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/sandbox/symbols"
)

// wantEntryPoints is the contract of each example directory.
var wantEntryPoints = map[string][]edge.EventType{
	"jwt-auth":            {edge.ViewerRequest},
	"ab-testing":          {edge.ViewerRequest},
	"override-header":     {edge.ViewerResponse},
	"static-content":      {edge.ViewerRequest},
	"redirect":            {edge.ViewerRequest},
	"query-to-header":     {edge.ViewerRequest},
	"normalize-query":     {edge.ViewerRequest},
	"signin-redirect":     {edge.ViewerRequest},
	"redirect-by-country": {edge.OriginRequest},
	"device-content":      {edge.OriginRequest},
	"switch-origin":       {edge.OriginRequest},
	"s3-origin":           {edge.OriginRequest},
	"origin-error":        {edge.OriginResponse},
	"form-body":           {edge.ViewerRequest},
	"security-headers":    {edge.OriginResponse, edge.ViewerResponse},
}

func loadExample(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

// TestExamples validates every example statically, then compiles it in
// yaegi with the SDK symbols and runs each entry point once on a plain
// request, checking the result against the sandbox's result rules.
func TestExamples(t *testing.T) {
	dirs, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, d := range dirs {
		if !d.IsDir() || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "distributions" {
			continue
		}
		seen++
		name := d.Name()
		t.Run(name, func(t *testing.T) {
			want, ok := wantEntryPoints[name]
			if !ok {
				t.Fatalf("example %s is not listed in wantEntryPoints", name)
			}
			files := loadExample(t, name)
			info, err := sandbox.ValidateSource(files)
			if err != nil {
				t.Fatalf("ValidateSource: %v", err)
			}
			if !reflect.DeepEqual(info.EntryPoints, want) {
				t.Fatalf("entry points = %v, want %v", info.EntryPoints, want)
			}
			if info.CompressedSize > sandbox.MaxViewerCodeBytes {
				t.Errorf("compressed size %d over the viewer limit", info.CompressedSize)
			}
			runInYaegi(t, info, files)
		})
	}
	if seen != len(wantEntryPoints) {
		t.Errorf("found %d example directories, want %d", seen, len(wantEntryPoints))
	}
}

func compileInYaegi(t *testing.T, info *sandbox.SourceInfo, files map[string][]byte) *interp.Interpreter {
	t.Helper()
	const importPath = "edgelab.example/fn"
	fsys := fstest.MapFS{}
	for _, f := range info.Files {
		fsys["_fn/src/"+importPath+"/"+f] = &fstest.MapFile{Data: files[f]}
	}
	i := interp.New(interp.Options{GoPath: "_fn", SourcecodeFilesystem: fsys})
	if err := i.Use(stdlib.Symbols); err != nil {
		t.Fatal(err)
	}
	if err := i.Use(symbols.Symbols); err != nil {
		t.Fatal(err)
	}
	if _, err := i.Eval(`import fn "` + importPath + `"`); err != nil {
		t.Fatalf("yaegi compile: %v", err)
	}
	return i
}

func runInYaegi(t *testing.T, info *sandbox.SourceInfo, files map[string][]byte) {
	t.Helper()
	i := compileInYaegi(t, info, files)
	for _, e := range info.EntryPoints {
		v, err := i.Eval("fn." + e.EntryPoint())
		if err != nil {
			t.Fatalf("lookup %s: %v", e.EntryPoint(), err)
		}
		ctx, _ := edgetest.Context(t, edge.Info{EventType: e})
		req := edgetest.NewRequest("GET", "/index.html?lang=fr")
		req.Header.Set("Host", "demo.edgelab.test")
		inv := sandbox.Invocation{Event: e, Request: req.Clone()}
		res := sandbox.Result{Outcome: sandbox.OutcomeContinue, Request: req}
		if e.IsRequest() {
			req.Origin, _ = edge.NewCustomOrigin("http://127.0.0.1:9001")
			inv.Request = req.Clone()
			h, ok := v.Interface().(func(context.Context, *edge.Request) (*edge.Response, error))
			if !ok {
				t.Fatalf("%s has type %T", e.EntryPoint(), v.Interface())
			}
			resp, err := h(ctx, req)
			if err != nil {
				t.Fatalf("%s: %v", e.EntryPoint(), err)
			}
			if resp != nil {
				res.Outcome, res.Response = sandbox.OutcomeGenerated, resp
			}
		} else {
			resp := &edge.Response{Status: 200, StatusDescription: "OK", Header: http.Header{"Content-Type": {"text/html"}}}
			inv.Response = resp.Clone()
			h, ok := v.Interface().(func(context.Context, *edge.Request, *edge.Response) error)
			if !ok {
				t.Fatalf("%s has type %T", e.EntryPoint(), v.Interface())
			}
			if err := h(ctx, req, resp); err != nil {
				t.Fatalf("%s: %v", e.EntryPoint(), err)
			}
			res.Response = resp
		}
		if err := sandbox.CheckResult(inv, sandbox.DefaultProfile().For(e), &res); err != nil {
			t.Errorf("%s result breaks a rule: %v", e.EntryPoint(), err)
		}
	}
}

// TestJWTAuthInYaegi runs the example flow's happy path interpreted: the
// compiled JWT helper and the Claims methods work through the symbol table.
func TestJWTAuthInYaegi(t *testing.T) {
	files := loadExample(t, "jwt-auth")
	info, err := sandbox.ValidateSource(files)
	if err != nil {
		t.Fatal(err)
	}
	i := compileInYaegi(t, info, files)
	v, err := i.Eval("fn.ViewerRequest")
	if err != nil {
		t.Fatal(err)
	}
	h := v.Interface().(func(context.Context, *edge.Request) (*edge.Response, error))
	// HS256 token {"sub":"alice"} signed with the example's secret.
	header := edge.Base64URLEncode([]byte(`{"alg":"HS256","typ":"JWT"}`))
	payload := edge.Base64URLEncode([]byte(`{"sub":"alice"}`))
	sig := edge.Base64URLEncode(edge.HMACSHA256([]byte("edgelab-workshop-secret"), []byte(header+"."+payload)))
	tests := []struct {
		name, auth string
		wantUser   string
		wantStatus int
	}{
		{"valid", "Bearer " + header + "." + payload + "." + sig, "alice", 0},
		{"tampered", "Bearer " + header + "." + edge.Base64URLEncode([]byte(`{"sub":"root"}`)) + "." + sig, "", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, _ := edgetest.Context(t, edge.Info{EventType: edge.ViewerRequest})
			req := edgetest.NewRequest("GET", "/private")
			req.Header.Set("Authorization", tt.auth)
			resp, err := h(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantStatus == 0 {
				if resp != nil || req.Header.Get("X-User") != tt.wantUser {
					t.Fatalf("resp = %+v, X-User = %q", resp, req.Header.Get("X-User"))
				}
				return
			}
			if resp == nil || resp.Status != tt.wantStatus {
				t.Fatalf("resp = %+v, want %d", resp, tt.wantStatus)
			}
		})
	}
}
