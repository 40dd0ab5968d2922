package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgelab/edgelab/eventtype"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/edgelab/edgelab/edge"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// Environment of a worker process.
const (
	// EnvWorker marks a process as a sandbox worker. Its value is where the
	// IPC socket is: "fd:N" for an inherited socket (what the Manager uses)
	// or a unix socket path to dial.
	EnvWorker = "EDGELAB_SANDBOX_WORKER"
	// EnvWorkerMaxStackMB sets the worker's maximum goroutine stack (MB).
	EnvWorkerMaxStackMB = "EDGELAB_SANDBOX_MAX_STACK_MB"
)

// defaultMaxStackMB is the worker's goroutine stack limit: runaway
// recursion in a handler hits it quickly and kills the worker (a Go stack
// overflow is fatal), which the host reports as an execution error.
const defaultMaxStackMB = 16

// MaybeRunWorker turns the process into a sandbox worker when it was started
// as one (EnvWorker is set): it serves the host over the IPC socket and
// exits the process when the host goes away. Otherwise it returns at once.
// Every binary's main and every TestMain that starts workers calls it first.
func MaybeRunWorker() {
	addr := os.Getenv(EnvWorker)
	if addr == "" {
		return
	}
	os.Exit(runWorker(addr, workerOptions{}))
}

// workerOptions are the knobs of a worker process that only tests set.
type workerOptions struct {
	// unchecked skips the static checks at load, so a test can hand the
	// worker code that the control plane would refuse (what the runtime
	// checks are for).
	unchecked bool
}

// runWorker is the worker process body; it returns the exit code.
func runWorker(addr string, opts workerOptions) int {
	stackMB := defaultMaxStackMB
	if v, err := strconv.Atoi(os.Getenv(EnvWorkerMaxStackMB)); err == nil && v > 0 {
		stackMB = v
	}
	debug.SetMaxStack(stackMB << 20)
	conn, err := dialHost(addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "edgelab sandbox worker: %v\n", err)
		return 2
	}
	defer conn.Close()
	stopBeat := startSysmonHeartbeat(sysmonHeartbeat)
	defer stopBeat()
	w := &workerServer{
		out:     newFrameWriter(conn),
		runners: newRunnerPool(),
		opts:    opts,
	}
	if err := w.serve(newFrameReader(conn)); err != nil {
		fmt.Fprintf(os.Stderr, "edgelab sandbox worker: %v\n", err)
		return 1
	}
	return 0
}

// sysmonHeartbeat bounds how long the runtime's sysmon thread sleeps in
// a worker (see startSysmonHeartbeat), and so how late a looping
// handler's timeout can fire: by about this much plus the runtime's 10 ms
// preemption threshold, well inside the host's grace (stopGrace). An idle
// worker pays for it: measured 0.08% of a CPU at 100 ms, 0.7% at 10 ms.
const sysmonHeartbeat = 100 * time.Millisecond

// startSysmonHeartbeat keeps a timer armed every period until the
// returned stop is called.
//
// The Go runtime preempts a goroutine that runs too long (a handler's
// "for {}") from its sysmon thread, and a worker with one P cannot run
// the invocation's timeout otherwise. sysmon sleeps while every P is
// idle, until the earliest timer known when it fell asleep or until a
// goroutine enters a system call. The worker's IPC uses raw system calls
// (see rawReader), which never wake it, and an invocation's own timeout
// timer is created after it fell asleep: without this timer, a handler
// that loops from the moment the worker wakes would not be preempted
// until sysmon's next scheduled wake (up to a minute), and the host
// would kill the worker as unresponsive instead of reporting a timeout.
// A timer wake does not put sysmon back into its costly 20 us polling,
// which a system-call wake does.
func startSysmonHeartbeat(period time.Duration) (stop func()) {
	t := time.NewTicker(period)
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		for {
			select {
			case <-t.C:
			case <-done:
				return
			}
		}
	}()
	return func() {
		t.Stop()
		close(done)
		<-exited
	}
}

func dialHost(addr string) (net.Conn, error) {
	if fd, ok := strings.CutPrefix(addr, "fd:"); ok {
		n, err := strconv.Atoi(fd)
		if err != nil {
			return nil, fmt.Errorf("bad %s value %q: %w", EnvWorker, addr, err)
		}
		f := os.NewFile(uintptr(n), "sandbox-ipc")
		if f == nil {
			return nil, fmt.Errorf("fd %d is not open", n)
		}
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			return nil, fmt.Errorf("using inherited socket fd %d: %w", n, err)
		}
		return c, nil
	}
	c, err := net.Dial("unix", addr)
	if err != nil {
		return nil, fmt.Errorf("dialing host: %w", err)
	}
	return c, nil
}

// workerServer serves one host connection: a Load, then invocations, each
// on its own goroutine (the host bounds how many are in flight).
type workerServer struct {
	out *frameWriter
	// fetches are the handlers' fetches waiting for the host (which
	// performs them: see fetchproxy.go).
	fetches fetchCalls
	opts    workerOptions
	// runners run the invocations (see dispatch); never closed: they live
	// as long as the process.
	runners *runnerPool
	// inflight counts invocations between dispatch and reply.
	inflight atomic.Int64

	mu    sync.Mutex
	files map[string][]byte
	max   int
	// tokens holds one token per interpreter in use (capacity max): the
	// host pipelines more invocations than there are interpreters, and
	// those beyond wait here.
	tokens  chan struct{}
	idle    []*program
	created int
	entries []edge.EventType
}

// serve runs until the host closes the connection. In-flight invocations
// are not waited for: their results cannot be delivered, and a stuck one
// would keep the process alive; the process exit ends them.
func (w *workerServer) serve(in *frameReader) error {
	for {
		f, err := in.readFrame()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading from host: %w", err)
		}
		if m := f.invoke; m != nil {
			id := f.id
			w.inflight.Add(1)
			w.dispatch(func() {
				w.invoke(m, id, func(res *resultMsg) {
					w.reply(id, res)
				})
			})
			continue
		}
		switch m := f.pb.GetMsg().(type) {
		case *edgelabv1.WorkerFrame_FetchResult:
			w.fetches.deliver(f.id, m.FetchResult)
		case *edgelabv1.WorkerFrame_Load:
			res := w.load(m.Load)
			if err := w.out.write(&edgelabv1.WorkerFrame{Id: f.id, Msg: &edgelabv1.WorkerFrame_LoadResult{LoadResult: res}}, 0); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected frame (%s) from host", f.kind())
		}
	}
}

// dispatch runs fn on an idle runner goroutine, or on a new one when all
// are busy. Runners live as long as the process (the process exits when
// the host goes): their stacks stay grown to what the interpreter needs,
// instead of every invocation's fresh goroutine growing and copying its
// stack again. There are at most as many as invocations were ever in
// flight at once, which the host bounds by the interpreter count (plus
// handlers stuck after a timeout, which get the worker recycled).
func (w *workerServer) dispatch(fn func()) {
	if !w.runners.dispatch(fn) {
		go fn() // not reached: the worker's pool is never closed
	}
}

// reply sends an invocation's result (a short error when it is too large).
func (w *workerServer) reply(id uint64, res *resultMsg) {
	others := w.inflight.Add(-1) > 0
	err := w.out.send(res, id, 0, others)
	if errors.Is(err, errFrameTooLarge) {
		res = &resultMsg{kind: kindError, duration: res.duration, cold: res.cold,
			err: fmt.Sprintf("the result is too large to return (%v)", err)}
		err = w.out.send(res, id, 0, false)
	}
	// Any other write error means the host is gone; the read loop sees it too.
	_ = err
}

// load compiles the function once (checking it and finding its entry
// points) and keeps that interpreter as the first of the pool.
func (w *workerServer) load(l *edgelabv1.WorkerLoad) *edgelabv1.WorkerLoadResult {
	start := time.Now()
	files := map[string][]byte{}
	for _, f := range l.GetFunction().GetFiles() {
		files[f.GetName()] = f.GetContent()
	}
	// The static checks run again here (defence in depth: the worker may be
	// handed code that skipped the control plane, e.g. by edgectl invoke).
	var err error
	if !w.opts.unchecked {
		_, err = ValidateSource(files)
	}
	var p *program
	if err == nil {
		p, err = compile(files)
	}
	res := &edgelabv1.WorkerLoadResult{Duration: durationpb.New(time.Since(start))}
	if err != nil {
		res.Error = err.Error()
		return res
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.files = files
	w.max = max(1, int(l.GetInterpreters()))
	w.tokens = make(chan struct{}, w.max)
	w.idle = []*program{p}
	w.created = 1
	w.entries = p.entryPoints()
	for _, e := range w.entries {
		res.EntryPoints = append(res.EntryPoints, eventtype.ToProto(e))
	}
	return res
}

// get returns an idle interpreter or compiles a new one (cold).
func (w *workerServer) get() (*program, bool, error) {
	w.mu.Lock()
	if w.files == nil {
		w.mu.Unlock()
		return nil, false, errors.New("no function loaded")
	}
	if n := len(w.idle); n > 0 {
		p := w.idle[n-1]
		w.idle = w.idle[:n-1]
		w.mu.Unlock()
		return p, !p.used, nil
	}
	w.created++
	files := w.files
	w.mu.Unlock()
	p, err := compile(files)
	if err != nil {
		w.mu.Lock()
		w.created--
		w.mu.Unlock()
		return nil, false, err
	}
	return p, true, nil
}

// acquire waits up to timeout for an interpreter token; false when none
// was free in time. The token is released by put or release.
func (w *workerServer) acquire(timeout time.Duration) (chan struct{}, bool) {
	w.mu.Lock()
	tok := w.tokens
	w.mu.Unlock()
	if tok == nil {
		return nil, true // no function loaded: get reports it
	}
	select {
	case tok <- struct{}{}:
		return tok, true
	default:
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case tok <- struct{}{}:
		return tok, true
	case <-t.C:
		return nil, false
	}
}

// release gives back a token taken by acquire (nil: none was taken).
func release(tok chan struct{}) {
	if tok != nil {
		<-tok
	}
}

// put returns an interpreter to the pool, or discards it (after a timeout).
func (w *workerServer) put(p *program, discard bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if discard || len(w.idle) >= w.max {
		w.created--
		return
	}
	w.idle = append(w.idle, p)
}

// invoke runs invocation id and calls reply exactly once with its result.
func (w *workerServer) invoke(inv *invokeMsg, id uint64, reply func(*resultMsg)) {
	e := inv.event
	timeout := inv.timeout
	if timeout <= 0 {
		timeout = DefaultProfile().For(e).Timeout
	}
	// Wait for an interpreter; the wait counts against the timeout, so the
	// host's bound (timeout plus grace) still holds.
	start := time.Now()
	tok, ok := w.acquire(timeout)
	if ok {
		timeout -= time.Since(start)
	}
	if !ok || timeout <= 0 {
		release(tok)
		reply(&resultMsg{kind: kindBusy, err: "no interpreter free within the timeout"})
		return
	}
	p, cold, err := w.get()
	if err != nil {
		release(tok)
		reply(&resultMsg{kind: kindError, err: fmt.Sprintf("starting interpreter: %v", err), cold: true})
		return
	}
	info := inv.info
	info.EventType = e
	// The handler runs on this goroutine; on timeout, reply is called
	// from the timer's goroutine while this one may stay blocked.
	p.run(context.Background(), e, info, inv.req, inv.resp, timeout,
		inv.fault.wrap(inv.latency.wrap(w.hostFetcher(id))),
		func(r callResult) {
			w.put(p, r.kind == kindTimeout || r.kind == kindTimeoutStuck)
			release(tok)
			out := &resultMsg{err: r.err, kind: r.kind, duration: r.duration, cold: cold, logs: r.logs}
			if r.kind == "" {
				out.req, out.resp = r.req, r.resp
			}
			reply(out)
		})
}
