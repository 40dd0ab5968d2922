package sandbox

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/scanner"
	"go/token"
	"path"
	"sort"
	"strings"

	"github.com/edgelab/edgelab/edge"
)

// Static validation of function source: everything that can be checked
// without running the interpreter, with errors that name file, line and
// problem. It runs at create/publish time in the control plane (it never
// evaluates code, so a hostile package cannot hang or crash it) and again
// before a worker compiles a version.

// Code size limits (compressed, as CloudFront measures the deployment
// package): a function associated with a viewer event must stay within
// MaxViewerCodeBytes, any function within MaxOriginCodeBytes.
const (
	MaxViewerCodeBytes = 1 << 20
	MaxOriginCodeBytes = 50 << 20
)

// maxReportedErrors bounds the errors ValidateSource collects.
const maxReportedErrors = 10

// EdgeImportPath is the import path of the handler SDK.
const EdgeImportPath = "github.com/edgelab/edgelab/edge"

// allowedStd is the standard-library allowlist. It mirrors what the
// interpreter exposes (interpStdlibAllowed). net/http is importable for its
// header, cookie, status and method names only: outbound calls go through
// edge.Fetch, which honours the invocation deadline and can be faulted.
var allowedStd = []string{
	"bufio", "bytes", "context", "errors", "fmt", "html", "io", "maps", "mime",
	"net/http", "net/url", "path", "regexp", "slices", "sort", "strconv", "strings",
	"time", "unicode", "unicode/utf16", "unicode/utf8",
	"container/heap", "container/list",
	"crypto", "crypto/ecdsa", "crypto/ed25519", "crypto/elliptic", "crypto/hmac",
	"crypto/md5", "crypto/rand", "crypto/rsa", "crypto/sha1", "crypto/sha256",
	"crypto/sha512", "crypto/subtle", "crypto/x509",
	"encoding", "encoding/base32", "encoding/base64", "encoding/binary", "encoding/csv",
	"encoding/hex", "encoding/json", "encoding/pem", "encoding/xml",
	"hash", "hash/crc32", "hash/fnv",
	"math", "math/big", "math/bits", "math/rand",
}

// deniedReasons explains the imports people reach for most.
var deniedReasons = map[string]string{
	"os":                "there is no file system or environment at the edge; log with edge.Log",
	"os/exec":           "functions cannot start processes",
	"net":               "use edge.Fetch for outbound calls",
	"syscall":           "functions cannot make system calls",
	"unsafe":            "it breaks the sandbox's memory safety",
	"reflect":           "reflection is not exposed to the interpreter",
	"runtime":           "the runtime belongs to the sandbox",
	"plugin":            "functions cannot load code",
	"io/ioutil":         "there is no file system at the edge",
	"path/filepath":     "there is no file system at the edge; use path",
	"database/sql":      "use edge.Fetch to reach a data service",
	"log/syslog":        "log with edge.Log",
	"log":               "log with edge.Log",
	"iter":              "yaegi 0.16 cannot interpret iterators",
	"net/http/httptest": "only net/http's header types are available at the edge",
}

// AllowedImports returns the import paths a function may use, sorted.
func AllowedImports() []string {
	out := append([]string{EdgeImportPath}, allowedStd...)
	sort.Strings(out)
	return out
}

func importAllowed(p string) bool {
	if p == EdgeImportPath {
		return true
	}
	for _, a := range allowedStd {
		if a == p {
			return true
		}
	}
	return false
}

// httpSymbolAvailable reports whether a net/http name is visible to
// functions (header, cookie, status and method names; no client or server).
// Keep in step with httpAllowed in the engine.
func httpSymbolAvailable(name string) bool {
	switch name {
	case "Header", "CanonicalHeaderKey", "StatusText", "TimeFormat", "ParseTime",
		"Cookie", "SameSite", "DetectContentType":
		return true
	}
	return strings.HasPrefix(name, "Status") || strings.HasPrefix(name, "Method") ||
		strings.HasPrefix(name, "SameSite")
}

// SourceError is one problem in function source. File, Line and Col are
// empty/zero when the problem concerns the package as a whole.
type SourceError struct {
	File string
	Line int
	Col  int
	Msg  string
}

// Error formats "file:line:col: msg" (or just msg without a position).
func (e *SourceError) Error() string {
	switch {
	case e.File == "":
		return e.Msg
	case e.Line == 0:
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// SourceErrors is every problem found (at most 10), in file and position
// order. errors.As(err, &*SourceError) yields the first.
type SourceErrors []*SourceError

// Error joins the problems, one per line.
func (es SourceErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap exposes the individual errors to errors.Is/As.
func (es SourceErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// SourceInfo describes valid function source.
type SourceInfo struct {
	// Package is the Go package name.
	Package string
	// EntryPoints lists the exported entry points in event order.
	EntryPoints []edge.EventType
	// Files are the Go files compiled (sorted); test and non-Go files are ignored.
	Files []string
	// Size is the total size of all files in bytes.
	Size int
	// CompressedSize is CompressedSize(files).
	CompressedSize int
}

// Has reports whether the source exports the entry point for e.
func (s *SourceInfo) Has(e edge.EventType) bool {
	for _, x := range s.EntryPoints {
		if x == e {
			return true
		}
	}
	return false
}

// CodeSizeLimit returns the compressed code size limit for a function
// associated with event type e.
func CodeSizeLimit(e edge.EventType) int {
	if e.IsViewer() {
		return MaxViewerCodeBytes
	}
	return MaxOriginCodeBytes
}

// CompressedSize is the gzip size of the files (names and contents, in name
// order): the measure the code size limits apply to.
func CompressedSize(files map[string][]byte) int {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var cw countWriter
	zw, _ := gzip.NewWriterLevel(&cw, gzip.DefaultCompression)
	for _, n := range names {
		zw.Write([]byte(n))
		zw.Write([]byte{0})
		zw.Write(files[n])
	}
	zw.Close()
	return cw.n
}

type countWriter struct{ n int }

func (c *countWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

// ValidateSource checks function source statically: file names, one package
// (not main), Go syntax, the import allowlist, no go statements nor
// callbacks scheduled for later (time.AfterFunc, context.AfterFunc), no
// constructs yaegi 0.16 cannot run, at least one entry point, entry-point
// signatures exactly as in the handler contract, and the compressed size
// against MaxOriginCodeBytes (the viewer limit depends on the association;
// check it with CodeSizeLimit and SourceInfo.CompressedSize). Files ending
// in _test.go and non-Go files are ignored. Errors are SourceErrors.
func ValidateSource(files map[string][]byte) (*SourceInfo, error) {
	v := &validator{fset: token.NewFileSet(), entries: map[string]token.Position{}}
	info := &SourceInfo{}
	for name, data := range files {
		info.Size += len(data)
		if name == "" || path.Base(name) != name || name == "." || name == ".." || strings.ContainsAny(name, `\/`) {
			v.add(&SourceError{Msg: fmt.Sprintf("invalid file name %q: files are flat, named like auth.go", name)})
			continue
		}
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			info.Files = append(info.Files, name)
		}
	}
	sort.Strings(info.Files)
	info.CompressedSize = CompressedSize(files)
	if info.CompressedSize > MaxOriginCodeBytes {
		v.add(&SourceError{Msg: fmt.Sprintf("code is %d bytes compressed, over the %d byte limit", info.CompressedSize, MaxOriginCodeBytes)})
		return nil, v.errs
	}
	if len(info.Files) == 0 && len(v.errs) == 0 {
		v.add(&SourceError{Msg: "no Go files: a function is a package of one or more .go files"})
	}
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	var parsed []*ast.File
	for _, name := range info.Files {
		f, err := parser.ParseFile(v.fset, name, files[name], parser.SkipObjectResolution)
		if err != nil {
			v.addParseError(name, err)
			continue
		}
		parsed = append(parsed, f)
	}
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	for i, f := range parsed {
		v.checkPackage(f, parsed[0], info.Files[i], info.Files[0])
	}
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	info.Package = parsed[0].Name.Name
	v.collectPackageScope(parsed)
	for _, f := range parsed {
		v.checkFile(f)
	}
	for _, e := range edge.EventTypes() {
		if _, ok := v.entries[e.EntryPoint()]; ok {
			info.EntryPoints = append(info.EntryPoints, e)
		}
	}
	if len(info.EntryPoints) == 0 && len(v.errs) == 0 {
		v.add(&SourceError{Msg: fmt.Sprintf("package %s exports no entry point: declare ViewerRequest, OriginRequest, OriginResponse or ViewerResponse", info.Package)})
	}
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	return info, nil
}

type validator struct {
	fset *token.FileSet
	errs SourceErrors
	// entries maps entry-point name to its first declaration.
	entries map[string]token.Position
	// pkgFuncs are package-level function names (shadowing builtins) and
	// pkgIterFuncs those returning a func type (range-over-func candidates).
	pkgFuncs     map[string]bool
	pkgIterFuncs map[string]bool
	pkgInts      map[string]bool
}

func (v *validator) add(e *SourceError) {
	if len(v.errs) < maxReportedErrors {
		v.errs = append(v.errs, e)
	}
}

func (v *validator) addAt(pos token.Pos, format string, args ...any) {
	p := v.fset.Position(pos)
	v.add(&SourceError{File: p.Filename, Line: p.Line, Col: p.Column, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) addParseError(name string, err error) {
	var list scanner.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		// Later errors usually cascade from the first; report that one.
		e := list[0]
		v.add(&SourceError{File: name, Line: e.Pos.Line, Col: e.Pos.Column, Msg: "syntax error: " + e.Msg})
		return
	}
	v.add(&SourceError{File: name, Msg: "syntax error: " + err.Error()})
}

func (v *validator) checkPackage(f, first *ast.File, name, firstName string) {
	switch {
	case f.Name.Name == "main":
		v.addAt(f.Name.Pos(), "package main cannot be an edge function; use a library package name such as %q", "handler")
	case f.Name.Name != first.Name.Name:
		v.addAt(f.Name.Pos(), "package %s differs from package %s in %s: all files must be one package", f.Name.Name, first.Name.Name, firstName)
	}
}

// collectPackageScope records package-level names the construct checks need.
func (v *validator) collectPackageScope(files []*ast.File) {
	v.pkgFuncs, v.pkgIterFuncs, v.pkgInts = map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv != nil {
					continue
				}
				v.pkgFuncs[d.Name.Name] = true
				if isIterSignature(d.Type) {
					v.pkgIterFuncs[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					vs, ok := s.(*ast.ValueSpec)
					if !ok {
						continue
					}
					for i, n := range vs.Names {
						v.pkgFuncs[n.Name] = true // any package-level name shadows a builtin
						if isIntType(vs.Type) || (vs.Type == nil && i < len(vs.Values) && v.isIntExpr(vs.Values[i], nil)) {
							v.pkgInts[n.Name] = true
						}
					}
				}
			}
		}
	}
}

// isIterSignature reports whether a function returns a func type (an iterator
// constructor) or itself has the shape func(yield func(...) bool).
func isIterSignature(ft *ast.FuncType) bool {
	if ft.Results != nil && len(ft.Results.List) == 1 {
		if _, ok := ft.Results.List[0].Type.(*ast.FuncType); ok {
			return true
		}
	}
	if ft.Results == nil && ft.Params != nil && len(ft.Params.List) == 1 {
		if inner, ok := ft.Params.List[0].Type.(*ast.FuncType); ok && inner.Results != nil && len(inner.Results.List) == 1 {
			if id, ok := inner.Results.List[0].Type.(*ast.Ident); ok && id.Name == "bool" {
				return true
			}
		}
	}
	return false
}

var intTypeNames = map[string]bool{
	"int": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"uintptr": true, "byte": true, "rune": true,
}

func isIntType(t ast.Expr) bool {
	id, ok := t.(*ast.Ident)
	return ok && intTypeNames[id.Name]
}

// isIntExpr is a conservative, type-free guess that e is an integer: an
// integer literal, len/cap, an integer conversion, arithmetic on those, or a
// name known to hold one.
func (v *validator) isIntExpr(e ast.Expr, locals map[string]bool) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e.Kind == token.INT || e.Kind == token.CHAR
	case *ast.ParenExpr:
		return v.isIntExpr(e.X, locals)
	case *ast.UnaryExpr:
		return (e.Op == token.SUB || e.Op == token.ADD || e.Op == token.XOR) && v.isIntExpr(e.X, locals)
	case *ast.BinaryExpr:
		switch e.Op {
		case token.ADD, token.SUB, token.MUL, token.QUO, token.REM, token.AND, token.OR, token.XOR, token.SHL, token.SHR, token.AND_NOT:
			return v.isIntExpr(e.X, locals) || v.isIntExpr(e.Y, locals)
		}
	case *ast.CallExpr:
		if id, ok := e.Fun.(*ast.Ident); ok && !v.pkgFuncs[id.Name] {
			return id.Name == "len" || id.Name == "cap" || intTypeNames[id.Name]
		}
	case *ast.Ident:
		if locals != nil {
			if isInt, ok := locals[e.Name]; ok {
				return isInt
			}
		}
		return v.pkgInts[e.Name]
	}
	return false
}

// genericFuncsThatRun are the functions of the generic packages slices
// and maps that yaegi 0.16 runs from its generic source. Every other one
// fails to compile, most with an error that points into yaegi's own copy
// of the package ("18:20: undefined type for E") or says the name does
// not exist (slices.Sort, Min, Max, BinarySearch, IsSorted, Repeat).
// TestGenericFuncsThatRun compiles a call of each one here and of each
// refused one it knows, so a yaegi upgrade that changes either shows up.
var genericFuncsThatRun = map[string]bool{
	"slices.Contains": true, "slices.ContainsFunc": true, "slices.Index": true, "slices.IndexFunc": true,
	"slices.EqualFunc": true, "slices.CompareFunc": true, "maps.DeleteFunc": true,
}

const genericFuncsThatRunList = "slices.Contains, ContainsFunc, Index, IndexFunc, EqualFunc, CompareFunc and maps.DeleteFunc"

// stdIterFuncs are standard functions returning iterators (Go 1.23+).
var stdIterFuncs = map[string]bool{
	"maps.Keys": true, "maps.Values": true, "maps.All": true,
	"slices.All": true, "slices.Values": true, "slices.Backward": true, "slices.Chunk": true,
	"strings.Lines": true, "strings.SplitSeq": true, "strings.SplitAfterSeq": true,
	"strings.FieldsSeq": true, "strings.FieldsFuncSeq": true,
	"bytes.Lines": true, "bytes.SplitSeq": true, "bytes.SplitAfterSeq": true,
	"bytes.FieldsSeq": true, "bytes.FieldsFuncSeq": true,
}

func (v *validator) checkFile(f *ast.File) {
	imports := v.checkImports(f)
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				v.checkEntryPoint(d, imports)
			}
			locals := map[string]bool{}
			if d.Type.Params != nil {
				for _, fld := range d.Type.Params.List {
					for _, n := range fld.Names {
						locals[n.Name] = isIntType(fld.Type)
					}
				}
			}
			if d.Body != nil {
				v.checkBody(d.Body, imports, locals)
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Assign.IsValid() && s.TypeParams != nil && len(s.TypeParams.List) > 0 {
						v.addAt(s.Pos(), "yaegi 0.16 cannot interpret generic type aliases; declare a defined type (type %s[...] ...) instead", s.Name.Name)
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if edgeEntryNames[n.Name] {
							v.addAt(n.Pos(), "%s must be declared as a function, not a variable", n.Name)
						}
					}
					for _, val := range s.Values {
						v.checkBody(val, imports, map[string]bool{})
					}
				}
			}
		}
	}
}

var edgeEntryNames = map[string]bool{
	"ViewerRequest": true, "OriginRequest": true, "OriginResponse": true, "ViewerResponse": true,
}

// fileImports maps local package names to import paths for one file.
type fileImports map[string]string

func (v *validator) checkImports(f *ast.File) fileImports {
	imports := fileImports{}
	for _, spec := range f.Imports {
		p := strings.Trim(spec.Path.Value, "`\"")
		local := path.Base(p)
		if spec.Name != nil {
			local = spec.Name.Name
		}
		imports[local] = p
		if importAllowed(p) {
			if spec.Name != nil && (spec.Name.Name == "." || spec.Name.Name == "_") {
				v.addAt(spec.Pos(), "%s import of %q is not supported in edge functions; import it by name", map[string]string{".": "dot", "_": "blank"}[spec.Name.Name], p)
			}
			continue
		}
		if p == "C" {
			v.addAt(spec.Pos(), `import "C" is not allowed in edge functions: cgo cannot run in the interpreter`)
			continue
		}
		reason := deniedReasons[p]
		if reason == "" && strings.HasPrefix(p, "runtime/") {
			reason = deniedReasons["runtime"]
		}
		if reason != "" {
			v.addAt(spec.Pos(), "import %q is not allowed in edge functions: %s", p, reason)
			continue
		}
		v.addAt(spec.Pos(), "import %q is not allowed in edge functions (allowed: %s and standard packages such as strings, strconv, bytes, encoding/json, crypto/sha256, time, net/url; see sandbox.AllowedImports)", p, EdgeImportPath)
	}
	return imports
}

// checkBody walks a function body (or a package-level initializer) for go
// statements, yaegi-unsupported constructs and unavailable net/http names.
// locals tracks which local names hold integers (a type-free approximation
// good enough for range-over-int detection).
func (v *validator) checkBody(n ast.Node, imports fileImports, locals map[string]bool) {
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			v.addAt(n.Pos(), "go statements are not allowed in edge functions: a handler must finish its work before it returns")
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE && len(n.Lhs) == len(n.Rhs) {
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						locals[id.Name] = v.isIntExpr(n.Rhs[i], locals)
					}
				}
			}
		case *ast.ValueSpec:
			for i, id := range n.Names {
				locals[id.Name] = isIntType(n.Type) || (n.Type == nil && i < len(n.Values) && v.isIntExpr(n.Values[i], locals))
			}
		case *ast.FuncLit:
			if n.Type.Params != nil {
				for _, fld := range n.Type.Params.List {
					for _, id := range fld.Names {
						locals[id.Name] = isIntType(fld.Type)
					}
				}
			}
		case *ast.RangeStmt:
			v.checkRange(n, imports, locals)
		case *ast.CallExpr:
			if id, ok := n.Fun.(*ast.Ident); ok && !v.pkgFuncs[id.Name] {
				if _, shadowed := locals[id.Name]; !shadowed {
					switch id.Name {
					case "min", "max", "clear":
						v.addAt(n.Pos(), "yaegi 0.16 cannot interpret the %s builtin (Go 1.21); write it out or use a helper function", id.Name)
					}
				}
			}
		case *ast.SelectorExpr:
			v.checkDeferredWork(n, imports, locals)
			if x, ok := n.X.(*ast.Ident); ok && imports[x.Name] == "net/http" {
				if _, shadowed := locals[x.Name]; !shadowed && !httpSymbolAvailable(n.Sel.Name) {
					v.addAt(n.Pos(), "net/http.%s is not available in edge functions (only header, cookie, status and method names are); use edge.Fetch for outbound calls", n.Sel.Name)
				}
			}
			if x, ok := n.X.(*ast.Ident); ok && (imports[x.Name] == "slices" || imports[x.Name] == "maps") {
				name := imports[x.Name] + "." + n.Sel.Name
				if _, shadowed := locals[x.Name]; !shadowed && !genericFuncsThatRun[name] && !stdIterFuncs[name] {
					v.addAt(n.Pos(), "yaegi 0.16 cannot run %s: of the generic slices and maps functions only %s run; write the loop (sort with sort.Slice or sort.Strings)", name, genericFuncsThatRunList)
				}
			}
		}
		return true
	})
}

func (v *validator) checkRange(n *ast.RangeStmt, imports fileImports, locals map[string]bool) {
	switch x := n.X.(type) {
	case *ast.FuncLit:
		v.addAt(n.Pos(), "yaegi 0.16 cannot interpret range-over-func (iterators); loop over a slice or map instead")
		return
	case *ast.CallExpr:
		switch fn := x.Fun.(type) {
		case *ast.SelectorExpr:
			if pkg, ok := fn.X.(*ast.Ident); ok {
				if p, ok := imports[pkg.Name]; ok && stdIterFuncs[p+"."+fn.Sel.Name] {
					v.addAt(n.Pos(), "yaegi 0.16 cannot interpret range-over-func (%s.%s returns an iterator); loop over a slice or map instead", p, fn.Sel.Name)
					return
				}
			}
		case *ast.Ident:
			if v.pkgIterFuncs[fn.Name] {
				v.addAt(n.Pos(), "yaegi 0.16 cannot interpret range-over-func (%s returns a func); loop over a slice or map instead", fn.Name)
				return
			}
		}
	case *ast.Ident:
		if v.pkgIterFuncs[x.Name] {
			if _, shadowed := locals[x.Name]; !shadowed {
				v.addAt(n.Pos(), "yaegi 0.16 cannot interpret range-over-func (iterators); loop over a slice or map instead")
				return
			}
		}
	}
	if v.isIntExpr(n.X, locals) {
		v.addAt(n.Pos(), "yaegi 0.16 cannot interpret range-over-int; use a classic for loop (for i := 0; i < n; i++)")
		return
	}
	// Range variables shadow outer names; a range over a slice or map never
	// yields a name we can prove is an int, so mark them unknown (false).
	for _, e := range []ast.Expr{n.Key, n.Value} {
		if id, ok := e.(*ast.Ident); ok && n.Tok == token.DEFINE {
			locals[id.Name] = false
		}
	}
}

// checkEntryPoint verifies an exported entry point's signature.
func (v *validator) checkEntryPoint(d *ast.FuncDecl, imports fileImports) {
	name := d.Name.Name
	if !edgeEntryNames[name] {
		return
	}
	if first, dup := v.entries[name]; dup {
		v.addAt(d.Pos(), "%s redeclared (first declared at %s:%d)", name, first.Filename, first.Line)
		return
	}
	v.entries[name] = v.fset.Position(d.Pos())
	var ctxName, edgeName string
	for local, p := range imports {
		switch p {
		case "context":
			ctxName = local
		case EdgeImportPath:
			edgeName = local
		}
	}
	isRequest := name == "ViewerRequest" || name == "OriginRequest"
	want := "func(ctx context.Context, req *edge.Request, resp *edge.Response) error"
	if isRequest {
		want = "func(ctx context.Context, req *edge.Request) (*edge.Response, error)"
	}
	ok := d.Type.TypeParams == nil && ctxName != "" && edgeName != ""
	var params []ast.Expr
	if ok && d.Type.Params != nil {
		for _, f := range d.Type.Params.List {
			n := len(f.Names)
			if n == 0 {
				n = 1
			}
			for range n {
				params = append(params, f.Type)
			}
		}
	}
	var results []ast.Expr
	if ok && d.Type.Results != nil {
		for _, f := range d.Type.Results.List {
			n := len(f.Names)
			if n == 0 {
				n = 1
			}
			for range n {
				results = append(results, f.Type)
			}
		}
	}
	if ok {
		if isRequest {
			ok = len(params) == 2 && len(results) == 2 &&
				isSel(params[0], ctxName, "Context") && isPtrSel(params[1], edgeName, "Request") &&
				isPtrSel(results[0], edgeName, "Response") && isIdent(results[1], "error")
		} else {
			ok = len(params) == 3 && len(results) == 1 &&
				isSel(params[0], ctxName, "Context") && isPtrSel(params[1], edgeName, "Request") &&
				isPtrSel(params[2], edgeName, "Response") && isIdent(results[0], "error")
		}
	}
	if !ok {
		var got bytes.Buffer
		_ = printer.Fprint(&got, token.NewFileSet(), d.Type)
		v.addAt(d.Pos(), "%s has the wrong signature %s; want %s", name, got.String(), want)
	}
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func isSel(e ast.Expr, pkg, name string) bool {
	s, ok := e.(*ast.SelectorExpr)
	return ok && isIdent(s.X, pkg) && s.Sel.Name == name
}

func isPtrSel(e ast.Expr, pkg, name string) bool {
	s, ok := e.(*ast.StarExpr)
	return ok && isSel(s.X, pkg, name)
}

// deferredWork names the standard library functions that schedule work
// for later, each with why: a callback run on a goroutine of its own
// (handler code that would keep running after the invocation returned,
// past its deadline and its memory accounting), or a ticker that keeps
// firing in the worker once the handler is gone. They are refused like go
// statements. Nothing else among the exposed symbols starts a goroutine
// running handler code (sync, runtime and net/http's client are not
// exposed); the host's idle check (idlecheck.go) catches what slips by.
var deferredWork = map[string]map[string]string{
	"time": {
		"AfterFunc": afterReturn,
		"Tick":      tickerReason,
		"NewTicker": tickerReason,
	},
	"context": {"AfterFunc": afterReturn},
}

const (
	afterReturn  = "it runs code after the handler has returned; do the work before returning"
	tickerReason = "a ticker keeps firing after the handler has returned; wait with time.After or time.NewTimer"
)

// checkDeferredWork refuses a reference (a call or a method value) to a
// function that schedules handler code for later.
func (v *validator) checkDeferredWork(n *ast.SelectorExpr, imports fileImports, locals map[string]bool) {
	x, ok := n.X.(*ast.Ident)
	if !ok {
		return
	}
	if _, shadowed := locals[x.Name]; shadowed {
		return
	}
	p := imports[x.Name]
	if why, ok := deferredWork[p][n.Sel.Name]; ok {
		v.addAt(n.Pos(), "%s.%s is not allowed in edge functions: %s", p, n.Sel.Name, why)
	}
}
