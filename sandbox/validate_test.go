package sandbox

import (
	"errors"
	"path"
	"reflect"
	"strings"
	"testing"

	"github.com/traefik/yaegi/stdlib"

	"github.com/edgelab/edgelab/edge"
)

const validHeader = `package auth

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)
`

const validVR = validHeader + `
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	return nil, nil
}
`

func TestValidateSourceOK(t *testing.T) {
	tests := []struct {
		name  string
		files map[string][]byte
		want  []edge.EventType
	}{
		{"viewer request", map[string][]byte{"auth.go": []byte(validVR)}, []edge.EventType{edge.ViewerRequest}},
		{"time and context without callbacks", vrImports("\t\"time\"\n", `
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	t := time.NewTimer(time.Millisecond)
	defer t.Stop()
	_ = time.Now().Add(time.Hour)
	return nil, ctx.Err()
}
`), []edge.EventType{edge.ViewerRequest}},
		{"the generic functions yaegi runs", vrImports("\t\"maps\"\n\t\"slices\"\n", `
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	m := map[string]int{"a": 1}
	maps.DeleteFunc(m, func(k string, v int) bool { return v > 1 })
	if slices.Contains([]string{"a"}, req.URI) || slices.IndexFunc([]int{1}, func(i int) bool { return i > 0 }) > 0 {
		return nil, nil
	}
	return nil, nil
}
`), []edge.EventType{edge.ViewerRequest}},
		{"all four, aliased imports, tests and readme ignored", map[string][]byte{
			"a.go": []byte(`package h

import (
	gctx "context"
	e "github.com/edgelab/edgelab/edge"
	"net/http"
	"strings"
)

func ViewerRequest(ctx gctx.Context, req *e.Request) (*e.Response, error) {
	if req.Header.Get("X") == "" { req.Header = http.Header{} }
	for i := 0; i < 3; i++ { _ = strings.Repeat("a", i) }
	return nil, nil
}
func OriginRequest(ctx gctx.Context, req *e.Request) (resp *e.Response, err error) { return }
`),
			"b.go": []byte(`package h

import (
	"context"
	"github.com/edgelab/edgelab/edge"
)

func min(a, b int) int { if a < b { return a }; return b }

func OriginResponse(ctx context.Context, req *edge.Request, resp *edge.Response) error {
	_ = min(1, 2)
	for k, v := range resp.Header { _, _ = k, v }
	return nil
}
func ViewerResponse(_ context.Context, _ *edge.Request, _ *edge.Response) error { return nil }
`),
			"b_test.go": []byte("package h_test\nimport \"os\"\n"),
			"README.md": []byte("# hi"),
		}, edge.EventTypes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := ValidateSource(tt.files)
			if err != nil {
				t.Fatalf("ValidateSource: %v", err)
			}
			if !reflect.DeepEqual(info.EntryPoints, tt.want) {
				t.Errorf("EntryPoints = %v, want %v", info.EntryPoints, tt.want)
			}
			if info.Size <= 0 || info.CompressedSize <= 0 || info.Package == "" {
				t.Errorf("info = %+v", info)
			}
			for _, e := range tt.want {
				if !info.Has(e) {
					t.Errorf("Has(%s) = false", e)
				}
			}
		})
	}
}

func vr(body string) map[string][]byte {
	return map[string][]byte{"auth.go": []byte(validHeader + body)}
}

func vrImports(imports, body string) map[string][]byte {
	return map[string][]byte{"auth.go": []byte("package auth\n\nimport (\n\t\"context\"\n\n\t\"github.com/edgelab/edgelab/edge\"\n" + imports + ")\n" + body)}
}

const okFn = `
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	return nil, nil
}
`

func TestValidateSourceErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"empty", map[string][]byte{}, "no Go files: a function is a package of one or more .go files"},
		{"only tests", map[string][]byte{"a_test.go": []byte("package a")}, "no Go files: a function is a package of one or more .go files"},
		{"bad file name", map[string][]byte{"../x.go": []byte(validVR)}, `invalid file name "../x.go": files are flat, named like auth.go`},
		{"syntax", map[string][]byte{"auth.go": []byte("package auth\n\nfunc f( {\n")}, "auth.go:3:9: syntax error: expected ')', found '{'"},
		{"package mismatch", map[string][]byte{"a.go": []byte(validVR), "b.go": []byte("package other\n")},
			"b.go:1:9: package other differs from package auth in a.go: all files must be one package"},
		{"package main", map[string][]byte{"a.go": []byte("package main\n")}, `a.go:1:9: package main cannot be an edge function; use a library package name such as "handler"`},
		{"import os", vrImports("\t\"os\"\n", okFn), `auth.go:7:2: import "os" is not allowed in edge functions: there is no file system or environment at the edge; log with edge.Log`},
		{"import net", vrImports("\t\"net\"\n", okFn), `auth.go:7:2: import "net" is not allowed in edge functions: use edge.Fetch for outbound calls`},
		{"import unsafe", vrImports("\t\"unsafe\"\n", okFn), `auth.go:7:2: import "unsafe" is not allowed in edge functions: it breaks the sandbox's memory safety`},
		{"import runtime/debug", vrImports("\t\"runtime/debug\"\n", okFn), `auth.go:7:2: import "runtime/debug" is not allowed in edge functions: the runtime belongs to the sandbox`},
		{"import iter", vrImports("\t\"iter\"\n", okFn), `auth.go:7:2: import "iter" is not allowed in edge functions: yaegi 0.16 cannot interpret iterators`},
		{"import unknown", vrImports("\t\"archive/zip\"\n", okFn), `auth.go:7:2: import "archive/zip" is not allowed in edge functions (allowed: github.com/edgelab/edgelab/edge and standard packages such as strings, strconv, bytes, encoding/json, crypto/sha256, time, net/url; see sandbox.AllowedImports)`},
		{"import third party", vrImports("\tx \"github.com/evil/x\"\n", okFn), `auth.go:7:2: import "github.com/evil/x" is not allowed in edge functions (allowed: github.com/edgelab/edgelab/edge and standard packages such as strings, strconv, bytes, encoding/json, crypto/sha256, time, net/url; see sandbox.AllowedImports)`},
		{"import C", vrImports("\t\"C\"\n", okFn), `auth.go:7:2: import "C" is not allowed in edge functions: cgo cannot run in the interpreter`},
		{"dot import", vrImports("\t. \"strings\"\n", okFn), `auth.go:7:2: dot import of "strings" is not supported in edge functions; import it by name`},
		{"http client", vrImports("\t\"net/http\"\n", `
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	_, err := http.Get("http://x")
	return nil, err
}
`), `auth.go:11:12: net/http.Get is not available in edge functions (only header, cookie, status and method names are); use edge.Fetch for outbound calls`},
		{"go statement", vr(`
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	go func() {}()
	return nil, nil
}
`), "auth.go:10:2: go statements are not allowed in edge functions: a handler must finish its work before it returns"},
		{"time.AfterFunc", vrImports("\t\"time\"\n", `
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	time.AfterFunc(time.Second, func() { for {} })
	return nil, nil
}
`), "auth.go:11:2: time.AfterFunc is not allowed in edge functions: it runs code after the handler has returned; do the work before returning"},
		{"time.AfterFunc renamed, as a value", vrImports("\tclock \"time\"\n", `
var later = clock.AfterFunc

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	return nil, nil
}
`), "auth.go:10:13: time.AfterFunc is not allowed in edge functions: it runs code after the handler has returned; do the work before returning"},
		{"context.AfterFunc", vr(`
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	stop := context.AfterFunc(ctx, func() {})
	_ = stop
	return nil, nil
}
`), "auth.go:10:10: context.AfterFunc is not allowed in edge functions: it runs code after the handler has returned; do the work before returning"},
		{"time.NewTicker", vrImports("\t\"time\"\n", `
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	t := time.NewTicker(time.Millisecond)
	_ = t
	return nil, nil
}
`), "auth.go:11:7: time.NewTicker is not allowed in edge functions: a ticker keeps firing after the handler has returned; wait with time.After or time.NewTimer"},
		{"time.Tick", vrImports("\t\"time\"\n", `
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	for range time.Tick(time.Millisecond) {
		break
	}
	return nil, nil
}
`), "auth.go:11:12: time.Tick is not allowed in edge functions: a ticker keeps firing after the handler has returned; wait with time.After or time.NewTimer"},
		{"range over int literal", vr(`
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	for i := range 10 { _ = i }
	return nil, nil
}
`), "auth.go:10:2: yaegi 0.16 cannot interpret range-over-int; use a classic for loop (for i := 0; i < n; i++)"},
		{"range over int variable", vr(`
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	n := len(req.URI) * 2
	for range n {}
	return nil, nil
}
`), "auth.go:11:2: yaegi 0.16 cannot interpret range-over-int; use a classic for loop (for i := 0; i < n; i++)"},
		{"range over int param", vr(`
func repeat(n int) { for range n {} }
` + okFn), "auth.go:9:22: yaegi 0.16 cannot interpret range-over-int; use a classic for loop (for i := 0; i < n; i++)"},
		{"range over func literal", vr(`
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	for x := range func(yield func(int) bool) {} { _ = x }
	return nil, nil
}
`), "auth.go:10:2: yaegi 0.16 cannot interpret range-over-func (iterators); loop over a slice or map instead"},
		{"range over maps.Keys", vrImports("\t\"maps\"\n", `
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	for k := range maps.Keys(req.Header) { _ = k }
	return nil, nil
}
`), "auth.go:11:2: yaegi 0.16 cannot interpret range-over-func (maps.Keys returns an iterator); loop over a slice or map instead"},
		{"range over local iterator", vr(`
func seq(yield func(int) bool) {}
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	for x := range seq { _ = x }
	return nil, nil
}
`), "auth.go:11:2: yaegi 0.16 cannot interpret range-over-func (iterators); loop over a slice or map instead"},
		{"min builtin", vr(`
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	_ = min(1, 2)
	return nil, nil
}
`), "auth.go:10:6: yaegi 0.16 cannot interpret the min builtin (Go 1.21); write it out or use a helper function"},
		{"clear builtin", vr(`
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	clear(req.Header)
	return nil, nil
}
`), "auth.go:10:2: yaegi 0.16 cannot interpret the clear builtin (Go 1.21); write it out or use a helper function"},
		{"generic type alias", vr(`
type Set[T comparable] = map[T]struct{}
` + okFn), "auth.go:9:6: yaegi 0.16 cannot interpret generic type aliases; declare a defined type (type Set[...] ...) instead"},
		{"no entry point", vr("\nfunc helper() {}\nvar _ = context.Background\nvar _ edge.Request\n"), "package auth exports no entry point: declare ViewerRequest, OriginRequest, OriginResponse or ViewerResponse"},
		{"wrong request signature", vr(`
func ViewerRequest(ctx context.Context, req edge.Request) (*edge.Response, error) { return nil, nil }
`), "auth.go:9:1: ViewerRequest has the wrong signature func(ctx context.Context, req edge.Request) (*edge.Response, error); want func(ctx context.Context, req *edge.Request) (*edge.Response, error)"},
		{"response signature with request shape", vr(`
func OriginResponse(ctx context.Context, req *edge.Request) (*edge.Response, error) { return nil, nil }
`), "auth.go:9:1: OriginResponse has the wrong signature func(ctx context.Context, req *edge.Request) (*edge.Response, error); want func(ctx context.Context, req *edge.Request, resp *edge.Response) error"},
		{"missing error result", vr(`
func ViewerResponse(ctx context.Context, req *edge.Request, resp *edge.Response) {}
`), "auth.go:9:1: ViewerResponse has the wrong signature func(ctx context.Context, req *edge.Request, resp *edge.Response); want func(ctx context.Context, req *edge.Request, resp *edge.Response) error"},
		{"edge not imported", map[string][]byte{"a.go": []byte("package a\n\nimport \"context\"\n\ntype Request struct{}\n\nfunc ViewerRequest(ctx context.Context, req *Request) (*Request, error) { return nil, nil }\n")},
			"a.go:7:1: ViewerRequest has the wrong signature func(ctx context.Context, req *Request) (*Request, error); want func(ctx context.Context, req *edge.Request) (*edge.Response, error)"},
		{"entry point variable", vr(`
var ViewerRequest = func(ctx context.Context, req *edge.Request) (*edge.Response, error) { return nil, nil }
`), "auth.go:9:5: ViewerRequest must be declared as a function, not a variable"},
		{"duplicate entry point", map[string][]byte{"a.go": []byte(validVR), "b.go": []byte(validVR)}, "b.go:9:1: ViewerRequest redeclared (first declared at a.go:9)"},
		{"slices.Sort", vrImports("\t\"slices\"\n", `
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	keys := []string{"b", "a"}
	slices.Sort(keys)
	return nil, nil
}
`), "auth.go:12:2: yaegi 0.16 cannot run slices.Sort: of the generic slices and maps functions only " + genericFuncsThatRunList + " run; write the loop (sort with sort.Slice or sort.Strings)"},
		{"maps.Clone, renamed import", vrImports("\tm \"maps\"\n", `
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	_ = m.Clone(map[string]int{})
	return nil, nil
}
`), "auth.go:11:6: yaegi 0.16 cannot run maps.Clone: of the generic slices and maps functions only " + genericFuncsThatRunList + " run; write the loop (sort with sort.Slice or sort.Strings)"},
		{"generic entry point", vr(`
func ViewerRequest[T any](ctx context.Context, req *edge.Request) (*edge.Response, error) { return nil, nil }
`), "auth.go:9:1: ViewerRequest has the wrong signature func[T any](ctx context.Context, req *edge.Request) (*edge.Response, error); want func(ctx context.Context, req *edge.Request) (*edge.Response, error)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := ValidateSource(tt.files)
			if err == nil {
				t.Fatalf("ValidateSource succeeded (%+v), want %q", info, tt.want)
			}
			var se *SourceError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SourceError: %v", err, err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestValidateSourceReportsSeveral(t *testing.T) {
	_, err := ValidateSource(vrImports("\t\"os\"\n\t\"syscall\"\n", okFn))
	var errs SourceErrors
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("err = %v, want 2 SourceErrors", err)
	}
	if !strings.Contains(errs[1].Error(), `"syscall"`) || errs[1].Line != 8 {
		t.Errorf("second error = %v", errs[1])
	}
}

func TestCompressedSize(t *testing.T) {
	small := map[string][]byte{"a.go": []byte(validVR)}
	if n := CompressedSize(small); n <= 0 || n > len(validVR)+64 {
		t.Errorf("CompressedSize = %d", n)
	}
	repetitive := map[string][]byte{"a.go": []byte(strings.Repeat("a", 1<<20))}
	if n := CompressedSize(repetitive); n > 10<<10 {
		t.Errorf("CompressedSize(1MB of 'a') = %d, want small", n)
	}
	if CodeSizeLimit(edge.ViewerRequest) != 1<<20 || CodeSizeLimit(edge.OriginResponse) != 50<<20 {
		t.Error("CodeSizeLimit")
	}
	if a := AllowedImports(); !strings.Contains(strings.Join(a, ","), EdgeImportPath) {
		t.Errorf("AllowedImports = %v", a)
	}
}

func FuzzValidateSource(f *testing.F) {
	f.Add(validVR)
	f.Add("package a\nfunc f() { for range 3 {} }")
	f.Fuzz(func(t *testing.T, src string) {
		info, err := ValidateSource(map[string][]byte{"a.go": []byte(src)})
		if (info == nil) == (err == nil) {
			t.Fatalf("info=%v err=%v: exactly one must be set", info, err)
		}
	})
}

// Every allowed standard package must exist in yaegi's symbol table, or a
// function that passes validation would fail to compile in the worker.
func TestAllowedImportsExistInYaegi(t *testing.T) {
	for _, p := range AllowedImports() {
		if p == EdgeImportPath {
			continue
		}
		if _, ok := stdlib.Symbols[p+"/"+path.Base(p)]; !ok {
			t.Errorf("allowed import %q has no yaegi stdlib symbols", p)
		}
	}
}
