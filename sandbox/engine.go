package sandbox

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"path"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing/fstest"
	"time"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/sandbox/symbols"
)

// The engine is the part of the sandbox that talks to yaegi: it compiles a
// function version into one interpreter, looks its entry points up once,
// and calls one of them under recover with a timeout. The worker process
// and the in-process runner both use it.

const (
	// fnGoPath is the virtual GOPATH the function's files are served from.
	fnGoPath = "_fn"
	// fnImportPath is the import path the function package is compiled under.
	fnImportPath = "edgelab.fn/handler"
	// fnAlias is the name the package is imported as in the interpreter.
	fnAlias = "edgelabfn"
)

// interpSymbols builds the symbol table given to an interpreter: the
// allowlisted part of yaegi's stdlib (allowedStd, the static validator's
// list; net/http reduced to httpSymbolAvailable names) plus the edge SDK. It is built fresh
// (cheap: map copies of reflect.Values) so no table is shared mutable state.
//
// imports are the function's imports. When none of them is in
// needsGenericSource, the table holds only the imported packages: a
// table with "fmt/fmt" makes yaegi's Use compile its Go source of the
// standard library's generic packages (cmp, maps, slices) into the
// interpreter, a syntax tree that stays live for the interpreter's life
// (measured: 994 KB of live heap per interpreter with it, 55 KB without)
// and costs compile time at every cold start. A function that imports
// none of them behaves the same without it: it can only name the
// packages it imports. nil imports means the whole allowlist.
func interpSymbols(imports map[string]bool) interp.Exports {
	all := imports == nil
	for p := range imports {
		if needsGenericSource[p] {
			all = true
		}
	}
	out := make(interp.Exports, len(allowedStd)+len(symbols.Symbols))
	for _, p := range allowedStd {
		if !all && !imports[p] {
			continue
		}
		key := p + "/" + path.Base(p)
		syms, ok := stdlib.Symbols[key]
		if !ok {
			continue
		}
		if p == "net/http" {
			filtered := make(map[string]reflect.Value)
			for name, v := range syms {
				if httpSymbolAvailable(name) {
					filtered[name] = v
				}
			}
			syms = filtered
		}
		out[key] = syms
	}
	for k, v := range symbols.Symbols {
		out[k] = v
	}
	return out
}

// needsGenericSource lists the packages whose import calls for yaegi's
// generic source: the generic packages themselves, and fmt, whose presence
// in the table is what makes Use load it (see interpSymbols).
var needsGenericSource = map[string]bool{"fmt": true, "cmp": true, "maps": true, "slices": true}

// program is one function version compiled into one interpreter. It runs
// one invocation at a time; after a timeout it is discarded.
type program struct {
	i     *interp.Interpreter
	trace *panicTrace
	req   map[edge.EventType]edge.RequestHandler
	resp  map[edge.EventType]edge.ResponseHandler
	used  bool

	// timer is the timeout timer, re-armed by every call (Reset/Stop)
	// rather than allocated per call; it runs onTimer for cur, the
	// running call (nil between calls).
	timer *time.Timer
	cur   atomic.Pointer[callState]
	// fired gets one value from every onTimer run once it is done with
	// cur. A call whose timer.Stop finds the timer already fired waits
	// for that value before it ends, so a late timer never acts on the
	// program's next call.
	fired chan struct{}
	// returned gets a value when a handler returns after its timeout
	// path took over (which waits stopGrace for it). That happens at most
	// once: a program that timed out is discarded.
	returned chan struct{}

	// call's hand-off to a runner goroutine, reused by every call (one
	// call at a time): args in, result out.
	args    callArgs
	results chan callResult
	runArgs func()
	deliver func(callResult)
}

// callArgs are the arguments of run that call hands to a runner.
type callArgs struct {
	ctx     context.Context
	e       edge.EventType
	info    edge.Info
	req     *edge.Request
	resp    *edge.Response
	timeout time.Duration
	fetch   FetchFunc
}

// newProgram returns a program for the compiled interpreter i.
func newProgram(i *interp.Interpreter, trace *panicTrace) *program {
	p := &program{i: i, trace: trace,
		req: map[edge.EventType]edge.RequestHandler{}, resp: map[edge.EventType]edge.ResponseHandler{},
		fired: make(chan struct{}, 1), returned: make(chan struct{}, 1), results: make(chan callResult, 1)}
	p.timer = time.AfterFunc(time.Hour, p.onTimer)
	p.timer.Stop()
	p.runArgs = func() {
		a := p.args
		p.args = callArgs{}
		p.run(a.ctx, a.e, a.info, a.req, a.resp, a.timeout, a.fetch, p.deliver)
	}
	p.deliver = func(r callResult) { p.results <- r }
	return p
}

// entryPoints returns the event types the program exports, in event order.
func (p *program) entryPoints() []edge.EventType {
	var out []edge.EventType
	for _, e := range edge.EventTypes() {
		if _, ok := p.req[e]; ok {
			out = append(out, e)
		}
		if _, ok := p.resp[e]; ok {
			out = append(out, e)
		}
	}
	return out
}

// declaredEntryPoints parses the files and returns the entry-point names
// declared as top-level functions, so compile evaluates only names that exist.
func declaredEntryPoints(files map[string][]byte) ([]string, map[string]bool, error) {
	fset := token.NewFileSet()
	seen := map[string]bool{}
	imports := map[string]bool{}
	names := sortedGoFiles(files)
	if len(names) == 0 {
		return nil, nil, errors.New("no .go files")
	}
	for _, name := range names {
		f, err := parser.ParseFile(fset, name, files[name], parser.SkipObjectResolution)
		if err != nil {
			return nil, nil, err
		}
		for _, im := range f.Imports {
			if p, err := strconv.Unquote(im.Path.Value); err == nil {
				imports[p] = true
			}
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil {
				continue
			}
			for _, e := range edge.EventTypes() {
				if fd.Name.Name == e.EntryPoint() {
					seen[fd.Name.Name] = true
				}
			}
		}
	}
	var out []string
	for _, e := range edge.EventTypes() {
		if seen[e.EntryPoint()] {
			out = append(out, e.EntryPoint())
		}
	}
	return out, imports, nil
}

func sortedGoFiles(files map[string][]byte) []string {
	var names []string
	for name := range files {
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// cleanPositions strips the virtual GOPATH from yaegi's error positions so
// errors read "auth.go:12:3: ...".
func cleanPositions(msg string) string {
	msg = strings.ReplaceAll(msg, fnGoPath+"/src/"+fnImportPath+"/", "")
	msg = importWrapRE.ReplaceAllString(msg, "")
	return unknownImportRE.ReplaceAllString(msg, `import "$1" is not allowed in edge functions`)
}

var (
	// importWrapRE matches yaegi's wrapper around errors of the imported
	// function package, which only repeats our own import statement.
	importWrapRE = regexp.MustCompile(`^\d+:\d+: import "` + regexp.QuoteMeta(fnImportPath) + `" error: `)
	// unknownImportRE matches yaegi's error for a package not in the
	// symbol table (a standard package outside the allowlist).
	unknownImportRE = regexp.MustCompile(`import "([^"]+)" error: unable to find source related to: "[^"]+"`)
)

// compile builds a program from the function's files: the package is
// imported from an in-memory file system under fnImportPath, its init
// functions run, and each declared entry point is looked up once and
// checked against the SDK signature. Every yaegi call is under recover.
func compile(files map[string][]byte) (p *program, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("compiler panic: %s", cleanPositions(fmt.Sprint(r)))
		}
	}()
	entries, imports, err := declaredEntryPoints(files)
	if err != nil {
		return nil, fmt.Errorf("parse: %s", cleanPositions(err.Error()))
	}
	if len(entries) == 0 {
		return nil, errors.New("the package exports no entry point (ViewerRequest, OriginRequest, OriginResponse or ViewerResponse)")
	}
	fsys := fstest.MapFS{}
	for _, name := range sortedGoFiles(files) {
		fsys[fnGoPath+"/src/"+fnImportPath+"/"+name] = &fstest.MapFile{Data: files[name], Mode: 0o444}
	}
	trace := &panicTrace{}
	// Handlers log with edge.Log; fmt.Print output is discarded. yaegi
	// writes where a panic happened to stderr: kept to name the position.
	i := interp.New(interp.Options{GoPath: fnGoPath, SourcecodeFilesystem: fsys, Stdout: io.Discard, Stderr: trace})
	if err := i.Use(interpSymbols(imports)); err != nil {
		return nil, fmt.Errorf("loading symbols: %w", err)
	}
	if _, err := i.Eval(fmt.Sprintf("import %s %q", fnAlias, fnImportPath)); err != nil {
		return nil, fmt.Errorf("compile: %s", cleanPositions(err.Error()))
	}
	p = newProgram(i, trace)
	for _, e := range edge.EventTypes() {
		name := e.EntryPoint()
		if !slices.Contains(entries, name) {
			continue
		}
		v, err := i.Eval(fnAlias + "." + name)
		if err != nil {
			return nil, fmt.Errorf("looking up %s: %s", name, cleanPositions(err.Error()))
		}
		if !v.IsValid() || v.Kind() != reflect.Func {
			return nil, fmt.Errorf("%s is not a function", name)
		}
		switch e {
		case edge.ViewerRequest, edge.OriginRequest:
			h, ok := v.Interface().(func(context.Context, *edge.Request) (*edge.Response, error))
			if !ok {
				return nil, fmt.Errorf("%s has signature %s, want func(context.Context, *edge.Request) (*edge.Response, error)", name, v.Type())
			}
			p.req[e] = h
		default:
			h, ok := v.Interface().(func(context.Context, *edge.Request, *edge.Response) error)
			if !ok {
				return nil, fmt.Errorf("%s has signature %s, want func(context.Context, *edge.Request, *edge.Response) error", name, v.Type())
			}
			p.resp[e] = h
		}
	}
	return p, nil
}

// Error kinds reported by a call (WorkerInvokeResult.error_kind).
const (
	kindError   = "error"
	kindPanic   = "panic"
	kindTimeout = "timeout"
	// kindTimeoutStuck: timed out and the interpreter's goroutine did not
	// stop when cancelled; the host recycles the worker process.
	kindTimeoutStuck = "timeout_stuck"
	// kindMisuse: the event type is not exported or the input is invalid.
	kindMisuse = "misuse"
	// kindBusy: the invocation waited in the worker for a free interpreter
	// for its whole timeout (the host reports LimitExceeded).
	kindBusy = "busy"
)

// stopGrace is how long a timed-out call is given to unwind after its
// interpreter is cancelled before it is reported stuck.
const stopGrace = 250 * time.Millisecond

// callResult is the outcome of one entry-point call.
type callResult struct {
	req      *edge.Request
	resp     *edge.Response
	kind     string // "" on success
	err      string
	duration time.Duration
	logs     []LogLine
}

// call runs one entry point on req/resp (which it mutates) with the
// timeout and returns its result. On timeout the interpreter is cancelled
// and the program must be discarded (the caller checks res.kind). The
// handler runs on one of runners' goroutines (a fresh goroutine when
// runners is nil or closed), so that call returns at the timeout even
// when the handler does not.
func (p *program) call(ctx context.Context, e edge.EventType, info edge.Info, req *edge.Request, resp *edge.Response, timeout time.Duration, fetch FetchFunc, runners *runnerPool) callResult {
	// The hand-off happens before the runner reads args (channel send or
	// go statement), and the next call's write after this one's result.
	p.args = callArgs{ctx: ctx, e: e, info: info, req: req, resp: resp, timeout: timeout, fetch: fetch}
	if runners == nil || !runners.dispatch(p.runArgs) {
		go p.runArgs()
	}
	return <-p.results
}

// callState is one call's state, in one allocation: its context, its
// runtime, and who delivers the result.
type callState struct {
	ctx     callCtx
	rt      invocationRuntime
	start   time.Time
	timeout time.Duration
	deliver func(callResult)
	// owned decides who delivers: the timeout path or the returning
	// handler (the first to set it).
	owned atomic.Bool
}

// run is call on the calling goroutine: the handler runs inline (no
// goroutine hand-off on the hot path) and deliver is called exactly once,
// by run itself when the handler returns in time, or by the timeout path
// (on the timer's goroutine, or the parent context's AfterFunc's) when it
// does not: then run may keep blocking until the cancelled interpreter
// unwinds, or forever when it is stuck.
func (p *program) run(ctx context.Context, e edge.EventType, info edge.Info, req *edge.Request, resp *edge.Response, timeout time.Duration, fetch FetchFunc, deliver func(callResult)) {
	p.used = true
	h, misuse := p.handler(e, req, resp)
	if misuse != "" {
		deliver(callResult{kind: kindMisuse, err: misuse})
		return
	}
	start := time.Now()
	deadline := start.Add(timeout)
	cs := &callState{start: start, timeout: timeout, deliver: deliver}
	cs.rt.fetch = fetch
	cs.ctx.init(ctx, deadline)
	defer cs.ctx.finish()
	info.Deadline = deadline
	hctx := edge.NewContext(&cs.ctx, info, &cs.rt)

	p.cur.Store(cs)
	p.timer.Reset(timeout)
	// A cancelled parent takes the timeout path too. context.Background
	// (the worker's) is never cancelled: no hook.
	var stopParent func() bool
	if ctx.Done() != nil {
		stopParent = context.AfterFunc(ctx, func() {
			if cs.owned.CompareAndSwap(false, true) {
				p.timedOut(cs)
			}
		})
	}
	p.trace.reset()
	o := h.call(hctx, req, resp)
	if !p.timer.Stop() {
		<-p.fired // the timer went off: wait until it is done with cs
	}
	p.cur.Store(nil)
	if stopParent != nil {
		stopParent()
	}
	if !cs.owned.CompareAndSwap(false, true) {
		// The timeout path delivers; it is waiting for this.
		select {
		case p.returned <- struct{}{}:
		default:
		}
		return
	}
	deliver(p.result(o, h.isReq, req, resp, cs))
}

// entryPoint is one of a program's entry points: a request or a response
// handler.
type entryPoint struct {
	isReq bool
	req   edge.RequestHandler
	resp  edge.ResponseHandler
}

// handler returns e's entry point, or why it cannot be called with req
// and resp (nil headers are made empty).
func (p *program) handler(e edge.EventType, req *edge.Request, resp *edge.Response) (entryPoint, string) {
	rh, isReq := p.req[e]
	sh, isResp := p.resp[e]
	if !isReq && !isResp {
		return entryPoint{}, fmt.Sprintf("the function does not export %s", e.EntryPoint())
	}
	if req == nil {
		return entryPoint{}, "no request"
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if isResp {
		if resp == nil {
			return entryPoint{}, "response event without a response"
		}
		if resp.Header == nil {
			resp.Header = http.Header{}
		}
	}
	return entryPoint{isReq: isReq, req: rh, resp: sh}, ""
}

// call runs the handler, catching a panic.
func (h entryPoint) call(ctx context.Context, req *edge.Request, resp *edge.Response) (o callOut) {
	defer func() {
		if r := recover(); r != nil {
			o.pan = r
		}
	}()
	if h.isReq {
		o.resp, o.err = h.req(ctx, req)
	} else {
		o.err = h.resp(ctx, req, resp)
	}
	return o
}

// result is the callResult of a handler that returned in time.
func (p *program) result(o callOut, isReq bool, req *edge.Request, resp *edge.Response, cs *callState) callResult {
	res := callResult{req: req, duration: time.Since(cs.start), logs: cs.rt.take()}
	switch {
	case o.pan != nil:
		res.kind, res.err = kindPanic, cleanPositions(fmt.Sprint(o.pan))
		if at := p.trace.position(); at != "" {
			res.err += " (at " + at + ")"
		}
	case o.err != nil:
		res.kind, res.err = kindError, o.err.Error()
	case isReq:
		res.resp = o.resp
	default:
		res.resp = resp
	}
	return res
}

// onTimer runs (on its own goroutine) when a call's timeout expires: the
// call's context expires and, unless the handler returned first, the
// timeout path delivers.
func (p *program) onTimer() {
	cs := p.cur.Load()
	won := false
	if cs != nil {
		cs.ctx.expire()
		won = cs.owned.CompareAndSwap(false, true)
	}
	p.fired <- struct{}{} // never blocks: one value per firing, taken by run
	if won {
		p.timedOut(cs)
	}
}

// timedOut is the timeout path of a call: it cancels the interpreter,
// gives the handler stopGrace to unwind, and delivers kindTimeout, or
// kindTimeoutStuck when the handler is still running.
func (p *program) timedOut(cs *callState) {
	p.cancel()
	kind := kindTimeout
	grace := time.NewTimer(stopGrace)
	select {
	case <-p.returned:
		grace.Stop()
	case <-grace.C:
		kind = kindTimeoutStuck
	}
	cs.deliver(callResult{kind: kind, err: fmt.Sprintf("timeout after %s", cs.timeout), duration: time.Since(cs.start), logs: cs.rt.take()})
}

// callOut is what a handler returned.
type callOut struct {
	resp *edge.Response
	err  error
	pan  any
}

// cancel stops every call running in the interpreter. yaegi only exposes
// its stop through EvalWithContext: evaluating with an already cancelled
// context makes it stop the interpreter, which bumps the run id that every
// interpreted loop and call checks. The select inside EvalWithContext may
// pick the finished evaluation instead, so it is retried until it reports
// the cancellation.
func (p *program) cancel() {
	defer func() { _ = recover() }()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 100 {
		// The source does not parse, so the evaluation touches none of the
		// interpreter state the running handler uses (no data race).
		if _, err := p.i.EvalWithContext(ctx, "}"); errors.Is(err, context.Canceled) {
			return
		}
	}
}

// FetchFunc performs a handler's outbound HTTP request; it must honour
// ctx's deadline. Tests and chaos hooks replace it.
type FetchFunc func(ctx context.Context, req *http.Request) (*http.Response, error)

// invocationRuntime is the edge.Runtime given to one invocation: it collects log
// lines and performs fetches through fetch (a plain client when nil).
type invocationRuntime struct {
	fetch FetchFunc
	mu    sync.Mutex
	logs  []LogLine
}

// maxLogLines bounds the lines kept per invocation; maxLogLineBytes one line.
const (
	maxLogLines     = 256
	maxLogLineBytes = 8 << 10
)

func (r *invocationRuntime) Log(_ context.Context, line string) {
	if len(line) > maxLogLineBytes {
		line = line[:maxLogLineBytes]
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.logs) < maxLogLines {
		r.logs = append(r.logs, LogLine{Time: time.Now(), Message: line})
	}
}

// Fetch performs the handler's request; a refusal by the egress policy
// is also logged with the function's lines (they ship to its region's
// log store).
func (r *invocationRuntime) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	if r.fetch == nil {
		return nil, errNoFetch
	}
	resp, err := r.fetch(ctx, req)
	if errors.Is(err, edge.ErrEgressDenied) {
		r.Log(ctx, "edge.Fetch "+req.Method+" "+req.URL.Redacted()+" refused: "+err.Error())
	}
	return resp, err
}

// errNoFetch: an invocation without a fetcher (not reached: every runner sets one).
var errNoFetch = errors.New("outbound fetches are not available here")

func (r *invocationRuntime) take() []LogLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.logs
	r.logs = nil
	return l
}

var _ edge.Runtime = (*invocationRuntime)(nil)

// panicTrace captures the first line yaegi writes when a panic unwinds
// interpreted code ("<file>:<line>:<col>: panic: <func>(...)", innermost
// frame first). One invocation at a time per interpreter.
type panicTrace struct {
	mu    sync.Mutex
	first string
}

func (t *panicTrace) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.first == "" {
		line, _, _ := strings.Cut(string(b), "\n")
		t.first = line
	}
	return len(b), nil
}

func (t *panicTrace) reset() {
	t.mu.Lock()
	t.first = ""
	t.mu.Unlock()
}

// position returns "file.go:line:col" of the innermost panicking frame, or "".
func (t *panicTrace) position() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	pos, _, ok := strings.Cut(cleanPositions(t.first), ": panic")
	if !ok {
		return ""
	}
	return pos
}
