package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/edgelab/edgelab/egress"
)

// InProcessConfig configures an InProcess runner.
type InProcessConfig struct {
	// Profile gives the per-event limits. Zero: DefaultProfile().
	Profile Profile
	// Interpreters bounds the interpreters per version. Zero: 4.
	Interpreters int
	// Fetch performs handlers' outbound requests. Nil: a client that
	// enforces the invocation's egress policy (Invocation.Egress).
	Fetch FetchFunc
	// FetchFault is as ManagerConfig.FetchFault. Nil: none.
	FetchFault func(inv Invocation) FetchFault
}

// InProcess runs handlers in yaegi interpreters inside the calling process,
// without a worker: no crash isolation and no memory limit, only timeouts.
// It exists for benchmarks (what isolation costs) and must not run
// untrusted code. It implements Runner and is safe for concurrent use.
//
// Handlers run on goroutines the runner keeps (so their stacks stay grown
// between invocations); Close stops them.
type InProcess struct {
	cfg     InProcessConfig
	runners *runnerPool
	mu      sync.Mutex
	fns     map[fnKey]*inprocFn
	closed  bool
	clients egress.Clients
}

var (
	_ Runner          = (*InProcess)(nil)
	_ ResultValidator = (*InProcess)(nil)
)

type inprocFn struct {
	code Code
	pool chan *program
}

// NewInProcess returns an in-process runner (benchmarks only).
func NewInProcess(cfg InProcessConfig) *InProcess {
	if cfg.Profile == (Profile{}) {
		cfg.Profile = DefaultProfile()
	}
	if cfg.Interpreters <= 0 {
		cfg.Interpreters = 4
	}
	r := &InProcess{cfg: cfg, runners: newRunnerPool(), fns: map[fnKey]*inprocFn{}}
	// A runner that is never closed still stops its goroutines once it is
	// unreachable (they hold the pool, not r).
	runtime.AddCleanup(r, func(rp *runnerPool) { rp.close() }, r.runners)
	return r
}

// Close stops the runner: later calls to Invoke fail with ErrClosed, and
// its goroutines exit once idle (one inside a handler that ignored its
// timeout, when the handler returns). It does not wait for in-flight
// invocations and is idempotent.
func (r *InProcess) Close() error {
	r.mu.Lock()
	r.closed = true
	r.fns = map[fnKey]*inprocFn{}
	r.mu.Unlock()
	r.runners.close()
	return nil
}

// Load compiles the version into all its interpreters.
func (r *InProcess) Load(_ context.Context, code Code) error {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return fmt.Errorf("loading %s:%d: in-process runner: %w", code.Name, code.Version, ErrClosed)
	}
	if _, err := ValidateSource(code.Files); err != nil {
		return fmt.Errorf("loading %s:%d: %w: %w", code.Name, code.Version, ErrCompile, err)
	}
	f := &inprocFn{code: code, pool: make(chan *program, r.cfg.Interpreters)}
	for range r.cfg.Interpreters {
		p, err := compile(code.Files)
		if err != nil {
			return fmt.Errorf("loading %s:%d: %w: %w", code.Name, code.Version, ErrCompile, err)
		}
		f.pool <- p
	}
	r.mu.Lock()
	r.fns[fnKey{code.Name, code.Version}] = f
	r.mu.Unlock()
	return nil
}

// Unload drops a version.
func (r *InProcess) Unload(name string, version int64) {
	r.mu.Lock()
	delete(r.fns, fnKey{name, version})
	r.mu.Unlock()
}

// ValidatesResults implements ResultValidator: results are validated with
// the runner's profile.
func (r *InProcess) ValidatesResults() bool { return true }

// Invoke runs one trigger on a copy of the invocation's request/response.
func (r *InProcess) Invoke(ctx context.Context, inv Invocation) (Result, error) {
	start := time.Now()
	r.mu.Lock()
	f, ok := r.fns[fnKey{inv.Function, inv.Version}]
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return Result{}, fmt.Errorf("invoking %s:%d: in-process runner: %w", inv.Function, inv.Version, ErrClosed)
	}
	if !ok {
		return Result{}, fmt.Errorf("invoking %s:%d: %w", inv.Function, inv.Version, ErrNotLoaded)
	}
	if inv.Request == nil || !inv.Event.Valid() {
		return Result{}, fmt.Errorf("invoking %s:%d: bad invocation", inv.Function, inv.Version)
	}
	// label names the version in errors (built only for one).
	label := func() string { return inv.Function + ":" + strconv.FormatInt(inv.Version, 10) }
	limits := r.cfg.Profile.For(inv.Event)
	timeout := limits.Timeout
	if f.code.Timeout > 0 && f.code.Timeout < timeout {
		timeout = f.code.Timeout
	}
	var p *program
	cold := false
	select {
	case p = <-f.pool:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invoking %s: %w", label(), ctx.Err())
	}
	if p == nil { // replacing a discarded interpreter
		var err error
		if p, err = compile(f.code.Files); err != nil {
			f.pool <- nil
			return execError(fmt.Errorf("%w: %s: %w", ErrCompile, label(), err), true), nil
		}
		cold = true
	}
	cold = cold || !p.used
	info := inv.handlerInfo()
	fetch := r.cfg.Fetch
	if fetch == nil {
		c := r.clients.For(inv.Egress)
		fetch = func(ctx context.Context, req *http.Request) (*http.Response, error) {
			return c.Do(req.WithContext(ctx))
		}
	}
	fetch = inv.FetchLatency.wrap(fetch)
	if r.cfg.FetchFault != nil {
		fetch = r.cfg.FetchFault(inv).wrap(fetch)
	}
	cr := p.call(ctx, inv.Event, info, inv.Request.Clone(), inv.Response.Clone(), timeout, fetch, r.runners)
	if cr.kind == kindTimeout || cr.kind == kindTimeoutStuck {
		f.pool <- nil
	} else {
		f.pool <- p
	}
	res := Result{Cold: cold, Logs: cr.logs}
	switch cr.kind {
	case "":
		res = finishResult(inv, limits, res, cr.req, cr.resp)
	case kindTimeout, kindTimeoutStuck:
		res.Outcome, res.Err = OutcomeExecutionError, fmt.Errorf("%w: %s: %s", ErrTimeout, label(), cr.err)
	case kindPanic:
		res.Outcome, res.Err = OutcomeExecutionError, fmt.Errorf("%w: %s: %s", ErrPanic, label(), cr.err)
	case kindError:
		res.Outcome, res.Err = OutcomeExecutionError, fmt.Errorf("%w: %s: %s", ErrHandler, label(), cr.err)
	default:
		res.Outcome, res.Err = OutcomeExecutionError, fmt.Errorf("%s: %s", label(), cr.err)
	}
	res.Duration = time.Since(start)
	return res, nil
}
