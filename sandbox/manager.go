package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgelab/edgelab/eventtype"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/egress"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox/memcg"
)

// ManagerConfig configures a Manager. The zero value of every field means
// its documented default.
type ManagerConfig struct {
	// Profile gives the per-event limits. Zero: DefaultProfile().
	Profile Profile
	// InterpretersPerWorker bounds the interpreters (concurrent invocations)
	// of one worker process. Zero: 16. Interpreters are compiled on demand,
	// so an idle or lightly used version keeps one; each costs about 1.5-2
	// MB of the worker's memory (counted against the function's limit). The
	// host keeps pipelineDepth invocations per interpreter in flight to the
	// worker (the rest wait in the worker for an interpreter), so the pool
	// also sets the IPC's pipeline depth: with 32 concurrent callers, 16
	// interpreters served about 1.7x the invocations per second of 4
	// (BenchmarkWarmWorkerConcurrent).
	InterpretersPerWorker int
	// MaxConcurrency bounds the in-flight invocations of one function
	// version, including those waiting for an interpreter; beyond it an
	// invocation is LambdaLimitExceeded. Zero: 64.
	MaxConcurrency int
	// IdleTimeout stops a worker that ran nothing for this long (the next
	// invocation starts it again, cold). Zero: 5 minutes; negative: never.
	IdleTimeout time.Duration
	// WorkerCommand is the worker's argv. Zero: os.Executable() with no
	// arguments (the calling binary, whose main calls MaybeRunWorker).
	WorkerCommand []string
	// WorkerEnv is added to the worker's environment.
	WorkerEnv []string
	// WorkerMaxProcs is each worker's GOMAXPROCS. Zero: 1; negative: the
	// Go runtime's default (every CPU). With one P a worker runs its
	// invocations interleaved on one core (async preemption still lets a
	// runaway handler's timeout fire): no cross-thread wake-ups per
	// invocation, and interpreters are rarely needed in parallel, so the
	// pool stays small. A version then gets at most one core; heavy
	// functions on large machines may want more.
	WorkerMaxProcs int
	// MaxStackMB is the worker's goroutine stack limit. Zero: 32 (a stack
	// grows by doubling, so the peak is 1.5x this: it must stay well under
	// the memory limit for runaway recursion to fail as a stack overflow).
	MaxStackMB int
	// MemoryPollInterval is how often a worker's RSS is checked against
	// its memory limit. Zero: 20ms.
	MemoryPollInterval time.Duration
	// MemoryCgroup says where the kernel enforces each worker's memory
	// limit with a memory cgroup of its own, besides the RSS watchdog:
	// "auto" under this process's own memory cgroup when it may create
	// cgroups there (logged at Info when not, and the watchdog works
	// alone), a directory to use that cgroup (v1 memory hierarchy or v2;
	// NewManager fails when it cannot), or "" / "off" for the watchdog
	// alone. See package memcg.
	MemoryCgroup string
	// LoadTimeout bounds starting a worker and compiling the function
	// (init functions included). Zero: 10s.
	LoadTimeout time.Duration
	// UnresponsiveGrace is how long past an invocation's timeout the host
	// waits for the worker's answer before killing it as unresponsive (the
	// worker enforces the timeout itself; this catches a paused or wedged
	// process). Zero: 2s.
	UnresponsiveGrace time.Duration
	// FetchFault, when set, is asked before each invocation for a fault to
	// inject into the handler's outbound fetches (chaos). Nil: none.
	FetchFault func(inv Invocation) FetchFault
	// Logger receives worker lifecycle logs. Nil: discarded.
	Logger *slog.Logger
	// IsolateNetwork starts each worker in user and network namespaces of
	// its own where the platform allows it (see netns.go).
	IsolateNetwork bool
}

// defaultInterpretersPerWorker is InterpretersPerWorker's default.
const defaultInterpretersPerWorker = 16

func (c *ManagerConfig) applyDefaults() error {
	if c.UnresponsiveGrace <= 0 {
		c.UnresponsiveGrace = 2 * time.Second
	}
	if c.Profile == (Profile{}) {
		c.Profile = DefaultProfile()
	}
	if c.InterpretersPerWorker <= 0 {
		c.InterpretersPerWorker = defaultInterpretersPerWorker
	}
	if c.MaxConcurrency <= 0 {
		c.MaxConcurrency = 64
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 5 * time.Minute
	}
	if len(c.WorkerCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding the worker executable: %w", err)
		}
		c.WorkerCommand = []string{exe}
	}
	if c.MaxStackMB <= 0 {
		c.MaxStackMB = defaultMaxStackMB
	}
	if c.WorkerMaxProcs == 0 {
		c.WorkerMaxProcs = 1
	}
	if c.MemoryPollInterval <= 0 {
		c.MemoryPollInterval = 20 * time.Millisecond
	}
	if c.LoadTimeout <= 0 {
		c.LoadTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Manager runs function versions in worker processes: one worker per
// loaded version, started on Load and restarted on demand after a crash,
// a memory kill, a stuck timeout or an idle reap. It implements Runner.
//
//	Invoke ──► function (concurrency gate) ──► worker slot (interpreter)
//	       ──► frame over socketpair ──► worker: interpreter pool ──► handler
//
// Safe for concurrent use. Close stops every worker.
type Manager struct {
	cfg ManagerConfig

	mu     sync.Mutex
	fns    map[fnKey]*function
	closed bool

	stop chan struct{}
	wg   sync.WaitGroup
	// calls tracks Invoke and Load calls so Close can wait for them.
	calls sync.WaitGroup

	coldStarts   atomic.Uint64
	workerStarts atomic.Uint64
	workerDeaths atomic.Uint64
	// known counts the documented outcomes (read-only map, no boxing on
	// the hot path); outcomes any other.
	known    map[Outcome]*atomic.Uint64
	outcomes sync.Map // Outcome -> *atomic.Uint64

	cgroups *memcg.Parent // nil: the RSS watchdog alone limits memory
	// egress performs the workers' fetches, one client per egress policy.
	egress egress.Clients
	// network records whether workers get a network namespace of their own.
	network *networkIsolation
}

var (
	_ Runner          = (*Manager)(nil)
	_ ResultValidator = (*Manager)(nil)
)

type fnKey struct {
	name    string
	version int64
}

// function is one loaded version and its current worker.
type function struct {
	code     Code
	label    string // "name:version", for errors
	entries  []edge.EventType
	inflight atomic.Int64

	// startMu serialises worker starts so concurrent invocations share one.
	startMu sync.Mutex
	mu      sync.Mutex
	w       *worker
	retired bool
}

// pipelineDepth is how many invocations per interpreter the host keeps in
// flight to a worker. Invocations beyond the interpreter count queue in
// the worker for a free interpreter (their wait counts against their
// timeout), so the host always has frames to send and replies to read
// while the worker runs: one write and one wake-up carry several calls.
// Measured with wrk on the node (64 connections, trivial viewer-request,
// 16 interpreters): 13.5k -> 19.2k req/s going from 1 to 4.
const pipelineDepth = 4

// worker is a process plus its invocation slots (pipelineDepth per
// interpreter).
type worker struct {
	p     *proc
	slots chan struct{}
	// lastUsed is the unix-nano time of the last invocation's end.
	lastUsed atomic.Int64
	busy     atomic.Int64
	fresh    atomic.Bool // no invocation yet: the first is cold
}

// NewManager returns a Manager; it starts nothing until Load.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	if err := cfg.applyDefaults(); err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, fns: map[fnKey]*function{}, stop: make(chan struct{}), known: map[Outcome]*atomic.Uint64{},
		network: &networkIsolation{logger: cfg.Logger}}
	switch cfg.MemoryCgroup {
	case "", "off":
	case "auto":
		parent, err := memcg.Auto()
		if err != nil {
			cfg.Logger.Info("worker memory limits enforced by the RSS watchdog alone", "reason", err)
		} else {
			m.cgroups = parent
		}
	default:
		parent, err := memcg.Under(cfg.MemoryCgroup)
		if err != nil {
			return nil, err
		}
		m.cgroups = parent
	}
	if m.cgroups != nil {
		cfg.Logger.Info("worker memory limits enforced by memory cgroups and the RSS watchdog", "enforcement", m.MemoryEnforcement())
	}
	for _, o := range []Outcome{OutcomeContinue, OutcomeGenerated, OutcomeValidationError, OutcomeExecutionError, OutcomeLimitExceeded} {
		m.known[o] = new(atomic.Uint64)
	}
	if cfg.IdleTimeout > 0 {
		m.wg.Add(1)
		go m.reapLoop()
	}
	return m, nil
}

func (m *Manager) memoryMB(c Code) int {
	if c.MemoryMB > 0 {
		return c.MemoryMB
	}
	return max(m.cfg.Profile.Viewer.MemoryMB, m.cfg.Profile.Origin.MemoryMB)
}

// startWorker starts a worker process and compiles code in it.
func (m *Manager) startWorker(ctx context.Context, c Code) (*worker, []edge.EventType, error) {
	name := c.Name + ":" + strconv.FormatInt(c.Version, 10)
	p, err := startProc(procConfig{
		command:      m.cfg.WorkerCommand,
		env:          m.cfg.WorkerEnv,
		memoryMB:     m.memoryMB(c),
		pollInterval: m.cfg.MemoryPollInterval,
		cgroups:      m.cgroups,
		maxStackMB:   m.cfg.MaxStackMB,
		maxProcs:     max(m.cfg.WorkerMaxProcs, 0),
		name:         name,
		logger:       m.cfg.Logger,
		fetch:        m.hostFetch,
		network:      m.isolation(),
	})
	if err != nil {
		return nil, nil, err
	}
	m.workerStarts.Add(1)
	entries, err := loadInto(ctx, p, c, m.cfg.InterpretersPerWorker, m.cfg.LoadTimeout)
	if err != nil {
		p.stop(nil)
		return nil, nil, err
	}
	w := &worker{p: p, slots: make(chan struct{}, pipelineDepth*m.cfg.InterpretersPerWorker)}
	w.lastUsed.Store(time.Now().UnixNano())
	w.fresh.Store(true)
	m.cfg.Logger.Debug("sandbox worker started", "function", name, "pid", p.pid(), "took", time.Since(p.started))
	return w, entries, nil
}

// loadInto sends the code to a started worker and waits for compilation.
func loadInto(ctx context.Context, p *proc, c Code, interpreters int, limit time.Duration) ([]edge.EventType, error) {
	fv := &edgelabv1.FunctionVersion{Name: c.Name, Version: c.Version, Sha256: c.SHA256}
	for _, name := range sortedNames(c.Files) {
		fv.Files = append(fv.Files, &edgelabv1.SourceFile{Name: name, Content: c.Files[name]})
	}
	reply, err := p.roundTrip(ctx, protoFrame{&edgelabv1.WorkerFrame{Msg: &edgelabv1.WorkerFrame_Load{
		Load: &edgelabv1.WorkerLoad{Function: fv, Interpreters: int32(interpreters)}}}}, limit)
	label := c.Name + ":" + strconv.FormatInt(c.Version, 10)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%s: compiling: %w", label, ctxErr)
		}
		if errors.Is(err, ErrUnresponsive) {
			return nil, fmt.Errorf("%w: %s: compiling took longer than %s (an init function that never returns?)", ErrCompile, label, limit)
		}
		return nil, fmt.Errorf("%w: %s: while compiling: %w", ErrCompile, label, err)
	}
	lr := reply.pb.GetLoadResult()
	if lr == nil {
		return nil, fmt.Errorf("%s: unexpected worker reply %s", label, reply.kind())
	}
	if lr.GetError() != "" {
		return nil, fmt.Errorf("%w: %s: %s", ErrCompile, label, lr.GetError())
	}
	var out []edge.EventType
	for _, e := range lr.GetEntryPoints() {
		out = append(out, eventtype.FromProto(e))
	}
	return out, nil
}

func sortedNames(files map[string][]byte) []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Load compiles the version in a new worker and keeps the worker running.
// Loading a version already loaded with the same SHA256 is a no-op; a
// different SHA256 replaces it. A compile error is returned (wrapping
// ErrCompile) and nothing is kept.
func (m *Manager) Load(ctx context.Context, code Code) error {
	key := fnKey{code.Name, code.Version}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	if f, ok := m.fns[key]; ok && f.code.SHA256 == code.SHA256 {
		m.mu.Unlock()
		return nil
	}
	m.calls.Add(1)
	m.mu.Unlock()
	defer m.calls.Done()

	w, entries, err := m.startWorker(ctx, code)
	if err != nil {
		return fmt.Errorf("loading %s:%d: %w", code.Name, code.Version, err)
	}
	f := &function{code: code, label: code.Name + ":" + strconv.FormatInt(code.Version, 10), entries: entries, w: w}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		w.p.stop(nil)
		return ErrClosed
	}
	old := m.fns[key]
	m.fns[key] = f
	m.mu.Unlock()
	if old != nil {
		old.retire()
	}
	return nil
}

// EntryPoints returns the event types a loaded version exports.
func (m *Manager) EntryPoints(name string, version int64) ([]edge.EventType, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.fns[fnKey{name, version}]
	if !ok {
		return nil, fmt.Errorf("%s:%d: %w", name, version, ErrNotLoaded)
	}
	return append([]edge.EventType(nil), f.entries...), nil
}

// Unload drops a version and stops its worker (in-flight invocations fail).
func (m *Manager) Unload(name string, version int64) {
	m.mu.Lock()
	f := m.fns[fnKey{name, version}]
	delete(m.fns, fnKey{name, version})
	m.mu.Unlock()
	if f != nil {
		f.retire()
	}
}

// retire stops the function's current worker.
func (f *function) retire() {
	f.mu.Lock()
	w := f.w
	f.w = nil
	f.retired = true
	f.mu.Unlock()
	if w != nil {
		w.p.stop(fmt.Errorf("%w: %s:%d: the version was unloaded or replaced", errRoutineStop, f.code.Name, f.code.Version))
	}
}

// current returns a live worker, starting one when there is none (cold).
// The worker's busy count is raised under f.mu, so the reaper never stops
// a worker an invocation is about to use; the caller lowers it.
func (m *Manager) current(ctx context.Context, f *function) (*worker, bool, error) {
	if w := f.live(); w != nil {
		return w, false, nil
	}
	f.startMu.Lock()
	defer f.startMu.Unlock()
	if w := f.live(); w != nil {
		return w, false, nil
	}
	f.mu.Lock()
	dead, retired := f.w, f.retired
	f.w = nil
	f.mu.Unlock()
	if retired {
		return nil, false, fmt.Errorf("%s:%d: %w", f.code.Name, f.code.Version, ErrNotLoaded)
	}
	if dead != nil {
		dead.p.stop(nil) // reap the dead one's goroutines
	}
	nw, _, err := m.startWorker(ctx, f.code)
	if err != nil {
		return nil, false, err
	}
	f.mu.Lock()
	if f.retired {
		f.mu.Unlock()
		nw.p.stop(nil)
		return nil, false, fmt.Errorf("%s:%d: %w", f.code.Name, f.code.Version, ErrNotLoaded)
	}
	f.w = nw
	nw.busy.Add(1)
	f.mu.Unlock()
	return nw, true, nil
}

// live returns the current worker with its busy count raised, or nil.
func (f *function) live() *worker {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.w != nil && f.w.p.alive() {
		f.w.busy.Add(1)
		return f.w
	}
	return nil
}

// recycle removes w as the function's worker if it still is, and stops
// it (reason is what its other in-flight calls report; nil when it is
// already dead); it reports whether this call removed it.
func (f *function) recycle(w *worker, reason error) bool {
	f.mu.Lock()
	mine := f.w == w
	if mine {
		f.w = nil
	}
	f.mu.Unlock()
	w.p.stop(reason)
	return mine
}

// Invoke runs one trigger. See Runner.
func (m *Manager) Invoke(ctx context.Context, inv Invocation) (Result, error) {
	start := time.Now()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return Result{}, ErrClosed
	}
	f, ok := m.fns[fnKey{inv.Function, inv.Version}]
	m.calls.Add(1)
	m.mu.Unlock()
	defer m.calls.Done()
	if !ok {
		return Result{}, fmt.Errorf("invoking %s:%d: %w", inv.Function, inv.Version, ErrNotLoaded)
	}
	if !inv.Event.Valid() {
		return Result{}, fmt.Errorf("invoking %s:%d: unknown event type %q", inv.Function, inv.Version, inv.Event)
	}
	if inv.Request == nil {
		return Result{}, fmt.Errorf("invoking %s:%d: nil request", inv.Function, inv.Version)
	}
	if !inv.Event.IsRequest() && inv.Response == nil {
		return Result{}, fmt.Errorf("invoking %s:%d %s: nil response", inv.Function, inv.Version, inv.Event)
	}
	res := m.invoke(ctx, f, inv)
	res.Duration = time.Since(start)
	m.count(res.Outcome)
	if res.Cold {
		m.coldStarts.Add(1)
	}
	return res, nil
}

func (m *Manager) invoke(ctx context.Context, f *function, inv Invocation) Result {
	label := f.label
	if n := f.inflight.Add(1); n > int64(m.cfg.MaxConcurrency) {
		f.inflight.Add(-1)
		return Result{Outcome: OutcomeLimitExceeded,
			Err: fmt.Errorf("%w: %s has %d invocations in flight (limit %d)", ErrConcurrency, label, n-1, m.cfg.MaxConcurrency)}
	}
	defer f.inflight.Add(-1)

	limits := m.cfg.Profile.For(inv.Event)
	timeout := limits.Timeout
	if f.code.Timeout > 0 && f.code.Timeout < timeout {
		timeout = f.code.Timeout
	}
	// A cold start (new worker + compile) is bounded by LoadTimeout, not by
	// the invocation's timeout, as Lambda's init phase is separate.
	w, cold, err := m.current(ctx, f)
	if err != nil {
		return execError(fmt.Errorf("starting worker for %s: %w", label, err), true)
	}
	defer func() {
		w.lastUsed.Store(time.Now().UnixNano())
		w.busy.Add(-1)
	}()
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	// Take an interpreter slot, waiting within the invocation's deadline
	// when none is free.
	select {
	case w.slots <- struct{}{}:
	default:
		if res, ok := m.waitSlot(ctx, w, deadline, label, timeout, cold); !ok {
			return res
		}
	}
	defer func() { <-w.slots }()
	if w.fresh.Swap(false) {
		cold = true
	}
	r, res := m.roundTrip(ctx, f, w, inv, time.Until(deadline), cold)
	if r == nil {
		return res
	}
	if res = m.outcome(f, w, r, timeout, cold); res.Outcome != "" {
		return res
	}
	return finishResult(inv, limits, res, r.req, r.resp)
}

// isolation is the record startProc uses, nil unless IsolateNetwork is set.
func (m *Manager) isolation() *networkIsolation {
	if !m.cfg.IsolateNetwork {
		return nil
	}
	return m.network
}

// WorkerNetworkIsolated reports whether the last worker started runs in
// a network namespace of its own (it reaches no network; the node makes
// its fetches), and when not, why the platform refused it.
func (m *Manager) WorkerNetworkIsolated() (bool, error) { return m.network.isolated() }

// hostFetch performs a worker's fetch under the invocation's egress
// policy: every connection is checked on the address it dials.
func (m *Manager) hostFetch(ctx context.Context, policy *egress.Policy, req *http.Request) (*http.Response, error) {
	return m.egress.For(policy).Do(req.WithContext(ctx))
}

// roundTrip sends inv to w with remaining time to run and returns the
// worker's result, or nil and the execution error when there is none.
func (m *Manager) roundTrip(ctx context.Context, f *function, w *worker, inv Invocation, remaining time.Duration, cold bool) (*resultMsg, Result) {
	msg := &invokeMsg{event: inv.Event, req: inv.Request, resp: inv.Response, timeout: remaining, info: inv.handlerInfo(),
		egress: inv.Egress, latency: inv.FetchLatency}
	if m.cfg.FetchFault != nil {
		msg.fault = m.cfg.FetchFault(inv)
	}
	// The worker enforces the timeout; the host's limit only catches a
	// worker that cannot answer at all.
	reply, err := w.p.roundTrip(ctx, msg, remaining+stopGrace+m.cfg.UnresponsiveGrace)
	if err != nil {
		if !w.p.alive() && f.recycle(w, nil) {
			m.workerDeaths.Add(1)
		}
		return nil, execError(err, cold) // proc errors name the function
	}
	if reply.result == nil {
		return nil, execError(fmt.Errorf("%s: unexpected worker reply %s", f.label, reply.kind()), cold)
	}
	return reply.result, Result{}
}

// outcome is the Result of a worker's result r: the logs and cold flag,
// and for a failed call its error outcome (Outcome "" when the handler
// returned: finishResult fills it). A timed-out handler that did not stop
// has its worker recycled.
func (m *Manager) outcome(f *function, w *worker, r *resultMsg, timeout time.Duration, cold bool) Result {
	label := f.label
	res := Result{Cold: cold || r.cold, Logs: r.logs}
	switch r.kind {
	case "":
		return res
	case kindTimeoutStuck:
		m.cfg.Logger.Warn("sandbox worker recycled after a stuck timeout", "function", label, "pid", w.p.pid())
		f.recycle(w, fmt.Errorf("%w: %s: worker recycled: a timed-out handler did not stop", ErrWorkerCrashed, label))
		res.Err = fmt.Errorf("%w: %s: timeout after %s (the handler did not stop; worker recycled)", ErrTimeout, label, timeout)
	case kindTimeout:
		res.Err = fmt.Errorf("%w: %s: timeout after %s", ErrTimeout, label, timeout)
	case kindBusy:
		res.Outcome, res.Err = OutcomeLimitExceeded, fmt.Errorf("%w: %s: no interpreter free within %s", ErrConcurrency, label, timeout)
		return res
	case kindPanic:
		res.Err = fmt.Errorf("%w: %s: %s", ErrPanic, label, r.err)
	case kindError:
		res.Err = fmt.Errorf("%w: %s: %s", ErrHandler, label, r.err)
	default:
		res.Err = fmt.Errorf("%s: %s", label, r.err)
	}
	res.Outcome = OutcomeExecutionError
	return res
}

// handlerInfo is the Info a handler sees: the caller's, with the event and
// the function version filled in (the one place they are).
func (inv Invocation) handlerInfo() edge.Info {
	info := inv.Info
	info.EventType = inv.Event
	info.FunctionName = inv.Function
	info.FunctionVersion = inv.Version
	return info
}

// ResultValidator is implemented by runners that apply the result rules
// (ValidateResult, with their own profile) to every result they return,
// so that callers do not apply them a second time.
type ResultValidator interface {
	// ValidatesResults reports whether results come back validated.
	ValidatesResults() bool
}

// ValidatesResults reports whether r returns validated results.
func ValidatesResults(r Runner) bool {
	v, ok := r.(ResultValidator)
	return ok && v.ValidatesResults()
}

// ValidatesResults implements ResultValidator: the Manager validates every
// result with its profile.
func (m *Manager) ValidatesResults() bool { return true }

// finishResult fills a successful invocation's outcome and validates it.
func finishResult(inv Invocation, limits Limits, res Result, req *edge.Request, resp *edge.Response) Result {
	if inv.Event.IsRequest() {
		res.Request = req
		res.Response = resp
		res.Outcome = OutcomeContinue
		if resp != nil {
			res.Outcome = OutcomeGenerated
		}
	} else {
		res.Request = req
		res.Response = resp
		res.Outcome = OutcomeContinue
	}
	// The result rules: read-only/disallowed headers, status range, sizes.
	ValidateResult(inv, limits, &res)
	return res
}

// waitSlot waits for a free interpreter slot of w until deadline; false
// with the result to return when there was none in time.
func (m *Manager) waitSlot(ctx context.Context, w *worker, deadline time.Time, label string, timeout time.Duration, cold bool) (Result, bool) {
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	select {
	case w.slots <- struct{}{}:
		return Result{}, true
	case <-wctx.Done():
		if ctx.Err() == nil {
			return Result{Outcome: OutcomeLimitExceeded,
				Err: fmt.Errorf("%w: %s: no interpreter free within %s", ErrConcurrency, label, timeout)}, false
		}
		return execError(fmt.Errorf("%s: %w", label, ctx.Err()), cold), false
	}
}

func execError(err error, cold bool) Result {
	return Result{Outcome: OutcomeExecutionError, Err: err, Cold: cold}
}

func (m *Manager) count(o Outcome) {
	if c, ok := m.known[o]; ok {
		c.Add(1)
		return
	}
	v, _ := m.outcomes.LoadOrStore(o, new(atomic.Uint64))
	v.(*atomic.Uint64).Add(1)
}

// Stats is a snapshot of the Manager's counters, for metrics.
type Stats struct {
	// Functions is the number of loaded versions; Workers the live worker processes.
	Functions, Workers int
	// WorkerStarts counts processes started (loads, restarts);
	// WorkerDeaths those that died or were killed while serving.
	WorkerStarts, WorkerDeaths uint64
	// Invocations counts completed invocations by outcome.
	Invocations map[Outcome]uint64
	// ColdStarts counts invocations that reported Cold.
	ColdStarts uint64
}

// Stats returns the current counters.
func (m *Manager) Stats() Stats {
	s := Stats{Invocations: map[Outcome]uint64{},
		WorkerStarts: m.workerStarts.Load(), WorkerDeaths: m.workerDeaths.Load(), ColdStarts: m.coldStarts.Load()}
	for o, c := range m.known {
		if n := c.Load(); n > 0 {
			s.Invocations[o] = n
		}
	}
	m.outcomes.Range(func(k, v any) bool {
		s.Invocations[k.(Outcome)] = v.(*atomic.Uint64).Load()
		return true
	})
	s.Functions = m.liveWorkers(func(fnKey, *proc) { s.Workers++ })
	return s
}

// WorkerMemory is the memory the worker of one loaded version uses.
type WorkerMemory struct {
	Function string
	Version  int64
	// RSSBytes is the worker's anonymous RSS as the memory watchdog last
	// read it (what the memory limit is checked against).
	RSSBytes int64
}

// WorkerMemory lists the loaded versions that have a live worker whose
// memory the watchdog has read, for metrics.
func (m *Manager) WorkerMemory() []WorkerMemory {
	var out []WorkerMemory
	m.liveWorkers(func(k fnKey, p *proc) {
		if rss := p.rss.Load(); rss > 0 {
			out = append(out, WorkerMemory{Function: k.name, Version: k.version, RSSBytes: rss})
		}
	})
	return out
}

// WorkerPIDs returns the process ids of the live workers (for tests and
// diagnostics).
func (m *Manager) WorkerPIDs() []int {
	var out []int
	m.liveWorkers(func(_ fnKey, p *proc) { out = append(out, p.pid()) })
	return out
}

// liveWorkers calls fn for every loaded version's live worker, under the
// manager's and the version's locks, and returns the number of versions
// loaded.
func (m *Manager) liveWorkers(fn func(k fnKey, p *proc)) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, f := range m.fns {
		f.mu.Lock()
		if f.w != nil && f.w.p.alive() {
			fn(k, f.w.p)
		}
		f.mu.Unlock()
	}
	return len(m.fns)
}

// reapLoop stops workers idle for longer than IdleTimeout.
func (m *Manager) reapLoop() {
	defer m.wg.Done()
	every := max(m.cfg.IdleTimeout/4, 10*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		m.mu.Lock()
		fns := make([]*function, 0, len(m.fns))
		for _, f := range m.fns {
			fns = append(fns, f)
		}
		m.mu.Unlock()
		for _, f := range fns {
			f.mu.Lock()
			w := f.w
			idle := w != nil && w.busy.Load() == 0 &&
				time.Since(time.Unix(0, w.lastUsed.Load())) > m.cfg.IdleTimeout
			if idle {
				f.w = nil
			}
			f.mu.Unlock()
			if idle {
				m.cfg.Logger.Debug("reaping idle sandbox worker", "function", f.code.Name, "version", f.code.Version)
				w.p.stop(fmt.Errorf("%w: %s:%d: idle worker reaped", errRoutineStop, f.code.Name, f.code.Version))
			}
		}
	}
}

// Close stops every worker and waits for them and the Manager's
// goroutines; later calls fail with ErrClosed. It is idempotent.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	fns := m.fns
	m.fns = map[fnKey]*function{}
	m.mu.Unlock()
	close(m.stop)
	m.wg.Wait()
	var wg sync.WaitGroup
	for _, f := range fns {
		wg.Go(f.retire)
	}
	wg.Wait()
	// In-flight calls fail fast now that their workers are gone; a worker
	// one of them was starting is stopped by that call (retired flag).
	m.calls.Wait()
	if m.cgroups != nil {
		return m.cgroups.Close()
	}
	return nil
}

// MemoryEnforcement describes how worker memory limits are enforced, for
// logs and status: the RSS watchdog, and the memory cgroup parent when
// there is one.
func (m *Manager) MemoryEnforcement() string {
	s := "RSS watchdog every " + m.cfg.MemoryPollInterval.String()
	if m.cgroups != nil {
		s = m.cgroups.String() + " + " + s
	}
	return s
}
