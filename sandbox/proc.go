package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/edgelab/edgelab/egress"
	"github.com/edgelab/edgelab/sandbox/memcg"
)

// procConfig configures one worker process.
type procConfig struct {
	// command is argv; command[0] is the executable (the calling binary).
	command []string
	// env is added to the host's environment.
	env []string
	// memoryMB is the anonymous-RSS limit enforced by the watchdog (GOMEMLIMIT
	// is set to 90% of it); 0 disables both.
	memoryMB int
	// pollInterval is how often the watchdog reads the worker's RSS.
	pollInterval time.Duration
	// cgroups, when set, gets the worker a memory cgroup of its own with
	// memoryMB as its limit, so the kernel stops an allocation the watchdog
	// would see too late.
	cgroups *memcg.Parent
	// maxStackMB is the worker's goroutine stack limit.
	maxStackMB int
	// maxProcs is the worker's GOMAXPROCS (0: the runtime's default);
	// env can override it.
	maxProcs int
	// name labels logs and errors ("auth:3").
	name   string
	logger *slog.Logger
	// fetch performs the handlers' fetches the worker asks for (nil: none
	// are allowed).
	fetch HostFetch
	// network says whether the worker gets a network namespace of its own.
	network *networkIsolation
}

// pendingCall is a call waiting for its reply.
type pendingCall struct {
	ch       chan *frame
	deadline time.Time
	// invoke is set for an invocation, whose fetches are checked against
	// egress (nil: the zero policy).
	invoke bool
	egress *egress.Policy
}

// proc is the host's handle on one worker process: it owns the process,
// the IPC connection and two goroutines (exit waiter, RSS watchdog), which
// end when the process dies. Safe for concurrent use.
//
// Replies are read leader/follower style, without a reader goroutine: a
// caller waiting for its reply takes the read token and reads frames
// itself, handing other callers' replies to their channels, until its own
// arrives. On the common path (one call in flight) the reply wakes the
// waiting caller directly, saving a goroutine hand-off per invocation.
type proc struct {
	cfg     procConfig
	cmd     *exec.Cmd
	conn    net.Conn
	out     *frameWriter
	in      *frameReader // used only by the holder of readTok
	readTok chan struct{}
	stderr  *tailBuffer
	cgroup  *memcg.Group // nil: the watchdog alone limits memory
	started time.Time
	wg      sync.WaitGroup
	// timers are reply timers for reuse (getTimer, putTimer).
	timers sync.Pool

	// calls counts the calls ever sent, so the idle check sees a call
	// that started and ended between two of its looks.
	calls atomic.Uint64
	// rss is the worker's anonymous RSS as the watchdog last read it (0:
	// not read yet), for WorkerMemory.
	rss atomic.Int64

	// fetchCtx ends when the worker exits: its fetches on the host stop.
	fetchCtx      context.Context
	cancelFetches context.CancelFunc

	mu      sync.Mutex
	pending map[uint64]pendingCall
	nextID  uint64
	// closing is set when the worker has exited: no fetch starts after it.
	closing  bool
	reason   error // first recorded reason for killing the worker
	deathErr error // set before dead is closed

	exited chan struct{} // closed when cmd.Wait returned
	dead   chan struct{} // closed when the process is gone and pending calls failed
}

// startProc starts a worker process connected over a socketpair.
func startProc(cfg procConfig) (*proc, error) {
	if len(cfg.command) == 0 {
		return nil, errors.New("no worker command")
	}
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	hostF := os.NewFile(uintptr(fds[0]), "sandbox-host")
	childF := os.NewFile(uintptr(fds[1]), "sandbox-child")
	defer childF.Close()
	conn, err := net.FileConn(hostF)
	hostF.Close()
	if err != nil {
		return nil, fmt.Errorf("socketpair conn: %w", err)
	}
	p := &proc{
		cfg:     cfg,
		conn:    conn,
		out:     newFrameWriter(conn),
		in:      newFrameReader(conn),
		readTok: make(chan struct{}, 1),
		stderr:  &tailBuffer{max: 8 << 10},
		pending: map[uint64]pendingCall{},
		exited:  make(chan struct{}),
		dead:    make(chan struct{}),
	}
	if cfg.cgroups != nil && cfg.memoryMB > 0 {
		if p.cgroup, err = cfg.cgroups.New(cfg.name, int64(cfg.memoryMB)<<20); err != nil {
			conn.Close()
			return nil, fmt.Errorf("starting worker %s: %w", cfg.name, err)
		}
	}
	p.fetchCtx, p.cancelFetches = context.WithCancel(context.Background())
	p.started = time.Now()
	cmd, err := startWorkerCmd(func() *exec.Cmd { return workerCmd(cfg, childF, p.stderr) }, cfg.network)
	if err != nil {
		p.cancelFetches()
		conn.Close()
		p.removeCgroup()
		return nil, fmt.Errorf("starting worker %s: %w", cfg.name, err)
	}
	p.cmd = cmd
	if p.cgroup != nil {
		// The worker runs no function code before its load frame, which
		// comes after this returns: everything a handler allocates is
		// charged to the group.
		if err := p.cgroup.Add(cmd.Process.Pid); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			conn.Close()
			p.removeCgroup()
			return nil, fmt.Errorf("starting worker %s: %w", cfg.name, err)
		}
	}
	p.wg.Add(2)
	go p.waitExit()
	go p.watchdog()
	return p, nil
}

// workerCmd is the worker's command line, environment and files.
func workerCmd(cfg procConfig, childF *os.File, stderr io.Writer) *exec.Cmd {
	cmd := exec.Command(cfg.command[0], cfg.command[1:]...)
	cmd.Env = os.Environ()
	if cfg.maxProcs > 0 {
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+strconv.Itoa(cfg.maxProcs))
	}
	cmd.Env = append(cmd.Env, cfg.env...)
	cmd.Env = append(cmd.Env, EnvWorker+"=fd:3")
	if cfg.maxStackMB > 0 {
		cmd.Env = append(cmd.Env, EnvWorkerMaxStackMB+"="+strconv.Itoa(cfg.maxStackMB))
	}
	if cfg.memoryMB > 0 {
		// The GC works harder from 90% of the limit, so garbage does not get
		// a function killed; live data over the limit does.
		cmd.Env = append(cmd.Env, "GOMEMLIMIT="+strconv.Itoa(cfg.memoryMB*9/10)+"MiB")
	}
	cmd.ExtraFiles = []*os.File{childF}
	cmd.Stdout = nil
	cmd.Stderr = stderr
	// The worker dies with the host: no orphans even if the host is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// waitExit reaps the process, then fails every pending call with the
// death reason.
func (p *proc) waitExit() {
	defer p.wg.Done()
	_ = p.cmd.Wait()
	close(p.exited)
	p.cancelFetches()
	// Unblocks a reader; replies not read by now are lost with the worker.
	p.conn.Close()
	oomKilled := false
	if p.cgroup != nil {
		n, err := p.cgroup.OOMKills()
		oomKilled = err == nil && n > 0
		p.removeCgroup()
	}
	p.mu.Lock()
	p.closing = true
	if oomKilled && p.reason == nil {
		p.reason = fmt.Errorf("%w: %s: the kernel killed the worker at its %d MB memory cgroup limit",
			ErrMemoryLimit, p.cfg.name, p.cfg.memoryMB)
		if p.cfg.logger != nil {
			p.cfg.logger.Warn("sandbox worker killed", "function", p.cfg.name, "pid", p.pid(), "reason", p.reason)
		}
	}
	p.deathErr = p.deathReason()
	p.mu.Unlock()
	close(p.dead)
}

// removeCgroup deletes the worker's memory cgroup (its process is gone).
func (p *proc) removeCgroup() {
	if p.cgroup == nil {
		return
	}
	if err := p.cgroup.Remove(); err != nil && p.cfg.logger != nil {
		p.cfg.logger.Warn("removing a sandbox worker's memory cgroup", "function", p.cfg.name, "err", err)
	}
}

// deathReason explains why the worker is gone: the recorded kill reason,
// else a crash with the fatal line of its stderr.
func (p *proc) deathReason() error {
	if p.reason != nil {
		return p.reason
	}
	state := p.cmd.ProcessState
	detail := p.stderr.fatalLine()
	msg := "worker exited"
	if state != nil {
		msg = "worker " + state.String()
	}
	if detail != "" {
		msg += ": " + detail
	}
	return fmt.Errorf("%w: %s: %s", ErrWorkerCrashed, p.cfg.name, msg)
}

// watchdog kills the worker when its RSS goes over the memory limit, or
// when it keeps using CPU while no call is in flight (see idleCheck).
func (p *proc) watchdog() {
	defer p.wg.Done()
	var rr *anonRSS
	if p.cfg.memoryMB > 0 && p.cfg.pollInterval > 0 {
		var err error
		if rr, err = openAnonRSS(p.pid()); err != nil {
			<-p.dead // exited before the first look; waitExit will notice
			return
		}
		defer rr.close()
	}
	idle := newIdleCheck(p.pid())
	defer idle.close()
	var mem <-chan time.Time
	if rr != nil {
		t := time.NewTicker(p.cfg.pollInterval)
		defer t.Stop()
		mem = t.C
	}
	cpu := time.NewTicker(idleCPUWindow)
	defer cpu.Stop()
	limit := int64(p.cfg.memoryMB) << 20
	for {
		select {
		case <-p.dead:
			return
		case <-cpu.C:
			if err := idle.observe(p.isIdle(), p.calls.Load()); err != nil {
				p.kill(fmt.Errorf("%w: %s: %w; worker killed", ErrRanAfterReturn, p.cfg.name, err))
			}
		case <-mem:
			rss, err := rr.read()
			if err != nil {
				continue // exiting; waitExit will notice
			}
			p.rss.Store(rss)
			if rss > limit {
				p.kill(fmt.Errorf("%w: %s: worker memory (anonymous RSS) %d MB over the %d MB limit; worker killed",
					ErrMemoryLimit, p.cfg.name, rss>>20, p.cfg.memoryMB))
			}
		}
	}
}

// isIdle reports whether no call is in flight to the worker.
func (p *proc) isIdle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending) == 0
}

// errRoutineStop marks the stops that are part of normal operation (the
// version was unloaded or replaced, the worker was idle), logged at debug
// level; every other reason (crash, memory, unresponsive) is a warning.
var errRoutineStop = errors.New("worker stopped")

// kill records reason (the first one wins; nil records nothing) and kills
// the process. It does not wait.
func (p *proc) kill(reason error) {
	p.mu.Lock()
	if p.reason == nil && reason != nil {
		p.reason = reason
		if p.cfg.logger != nil {
			level := slog.LevelWarn
			if errors.Is(reason, errRoutineStop) {
				level = slog.LevelDebug // unload, replace, idle reaping: business as usual
			}
			p.cfg.logger.Log(context.Background(), level, "stopping sandbox worker", "function", p.cfg.name, "pid", p.pid(), "reason", reason)
		}
	}
	p.mu.Unlock()
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Kill()
	}
}

// stop kills the process and waits for its goroutines.
func (p *proc) stop(reason error) {
	p.kill(reason)
	p.wg.Wait()
}

// alive reports whether the process is still serving.
func (p *proc) alive() bool {
	select {
	case <-p.dead:
		return false
	default:
		return true
	}
}

// err returns the death reason once the worker is dead.
func (p *proc) err() error {
	<-p.dead
	return p.deathErr
}

// roundTrip sends m and waits for the reply with the same id. After limit
// without a reply the worker is killed as unresponsive; when the worker
// dies the death reason is returned; ctx ends only the wait.
func (p *proc) roundTrip(ctx context.Context, m outFrame, limit time.Duration) (*frame, error) {
	ch := make(chan *frame, 1)
	p.mu.Lock()
	select {
	case <-p.dead:
		p.mu.Unlock()
		return nil, p.deathErr
	default:
	}
	p.nextID++
	p.calls.Add(1)
	id := p.nextID
	deadline := time.Now().Add(limit)
	call := pendingCall{ch: ch, deadline: deadline}
	if im, ok := m.(*invokeMsg); ok {
		call.invoke, call.egress = true, im.egress
	}
	p.pending[id] = call
	others := len(p.pending) > 1
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.pending, id)
		p.mu.Unlock()
	}()
	if err := p.out.send(m, id, limit, others); err != nil {
		p.kill(fmt.Errorf("%w: %s: sending to the worker: %w", ErrUnresponsive, p.cfg.name, err))
		return nil, p.err()
	}
	timer := p.getTimer(time.Until(deadline))
	defer p.putTimer(timer)
	unresponsive := func() error {
		p.kill(fmt.Errorf("%w: %s: no answer within %s; worker killed", ErrUnresponsive, p.cfg.name, limit))
		return p.err()
	}
	for {
		select {
		case r := <-ch:
			return r, nil
		case <-p.dead:
			select { // a reply may have raced with the death
			case r := <-ch:
				return r, nil
			default:
			}
			return nil, p.deathErr
		case <-timer.C:
			return nil, unresponsive()
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for worker %s: %w", p.cfg.name, ctx.Err())
		case p.readTok <- struct{}{}:
			r, err := p.lead(ctx, id, ch, deadline)
			<-p.readTok
			switch {
			case r != nil:
				return r, nil
			case errors.Is(err, os.ErrDeadlineExceeded):
				if !time.Now().Before(deadline) {
					return nil, unresponsive()
				}
				// ctx ended or a stale deadline: the select sorts it out.
			case err != nil:
				// The stream broke: the worker is dying or dead.
				p.kill(nil)
				return nil, p.err()
			}
		}
	}
}

// getTimer is a stopped timer from the proc's pool reset to fire after d:
// one timer per call in flight, not one allocated per call. Since Go 1.23
// a stopped timer's channel holds no stale value, so a reused timer fires
// only for its new use.
func (p *proc) getTimer(d time.Duration) *time.Timer {
	if t, ok := p.timers.Get().(*time.Timer); ok {
		t.Reset(d)
		return t
	}
	return time.NewTimer(d)
}

// putTimer stops t and returns it to the proc's pool.
func (p *proc) putTimer(t *time.Timer) {
	t.Stop()
	p.timers.Put(t)
}

// lead reads frames as the holder of the read token until the reply for
// id arrives (returned), dispatching other replies to their callers. The
// read is bounded by deadline and interrupted when ctx ends.
func (p *proc) lead(ctx context.Context, id uint64, ch chan *frame, deadline time.Time) (*frame, error) {
	select { // delivered by the previous leader
	case r := <-ch:
		return r, nil
	default:
	}
	// The read deadline and the ctx hook are armed only before a read that
	// can block: frames a previous leader's read brought in are handed out
	// without touching the poller.
	armed := false
	for {
		if !armed && !p.in.buffered() {
			armed = true
			_ = p.conn.SetReadDeadline(deadline)
			if ctx.Done() != nil { // a context that cannot end needs no hook
				stop := context.AfterFunc(ctx, func() { _ = p.conn.SetReadDeadline(time.Unix(1, 0)) })
				defer stop()
			}
		}
		f, err := p.in.readFrame()
		if err != nil {
			return nil, err
		}
		if fetch := f.pb.GetFetch(); fetch != nil {
			p.startFetch(f.id, fetch) // the worker's ids: not a reply
			continue
		}
		if f.id == id {
			return f, nil
		}
		p.mu.Lock()
		other, ok := p.pending[f.id]
		delete(p.pending, f.id)
		p.mu.Unlock()
		if ok {
			other.ch <- f
		}
	}
}

// procRSS returns the resident set size of a process (VmRSS) from /proc.
func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("reading status of %d: %w", pid, err)
	}
	return parseStatusBytes(b, "VmRSS")
}

// procAnonRSS returns a process's resident anonymous memory (RssAnon:
// heap, stacks, runtime data). This is what the memory limit is charged
// against: the binary's text pages in VmRSS are shared with the host and
// every other worker, and grow with whatever else the binary links.
func procAnonRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("reading status of %d: %w", pid, err)
	}
	return parseStatusBytes(b, "RssAnon")
}

// anonRSS reads a process's resident anonymous memory from
// /proc/<pid>/statm, kept open and re-read in place: resident minus shared
// pages is RssAnon (file and shmem pages are the shared ones). The kernel
// renders statm far more cheaply than status, which the watchdog read 50
// times a second per worker (9% of the node's CPU under load). Not safe
// for concurrent use.
type anonRSS struct {
	f   *os.File
	buf [256]byte
}

func openAnonRSS(pid int) (*anonRSS, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return nil, fmt.Errorf("opening statm of %d: %w", pid, err)
	}
	return &anonRSS{f: f}, nil
}

func (a *anonRSS) close() { _ = a.f.Close() }

// read returns the anonymous RSS in bytes.
func (a *anonRSS) read() (int64, error) {
	n, err := a.f.ReadAt(a.buf[:], 0)
	if n == 0 && err != nil {
		return 0, fmt.Errorf("reading statm: %w", err)
	}
	return parseStatmAnon(a.buf[:n], int64(os.Getpagesize()))
}

// parseStatmAnon returns (resident - shared) * pageSize from statm content
// ("size resident shared text lib data dt", in pages).
func parseStatmAnon(b []byte, pageSize int64) (int64, error) {
	var fields [3]int64
	i := 0
	for f := range fields {
		for i < len(b) && b[i] == ' ' {
			i++
		}
		start := i
		var v int64
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if v > (1<<62)/10 {
				return 0, fmt.Errorf("statm field %d overflows", f)
			}
			v = v*10 + int64(b[i]-'0')
			i++
		}
		if i == start || (i < len(b) && b[i] != ' ' && b[i] != '\n') {
			return 0, fmt.Errorf("unexpected statm content %q", truncate(string(b), 64))
		}
		fields[f] = v
	}
	resident, shared := fields[1], fields[2]
	if shared > resident {
		return 0, nil
	}
	return (resident - shared) * pageSize, nil
}

// parseStatusBytes extracts a "<key>: <n> kB" field (in bytes) from
// /proc/<pid>/status content.
func parseStatusBytes(status []byte, key string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), key+":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("unexpected %s line %q", key, sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || kb < 0 {
			return 0, fmt.Errorf("unexpected %s line %q", key, sc.Text())
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("no %s line (process exiting?)", key)
}

// tailBuffer keeps the first and the last bytes a worker writes to stderr:
// the first fatal line explains a crash. Safe for concurrent use.
type tailBuffer struct {
	mu   sync.Mutex
	max  int
	head []byte
	tail []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - len(b.head); room > 0 {
		b.head = append(b.head, p[:min(room, len(p))]...)
	}
	b.tail = append(b.tail, p...)
	if len(b.tail) > b.max {
		b.tail = append([]byte(nil), b.tail[len(b.tail)-b.max:]...)
	}
	return len(p), nil
}

// fatalLine returns the Go runtime's explanation of a crash ("fatal error:
// stack overflow", "runtime: out of memory", "panic: ...") or "".
func (b *tailBuffer) fatalLine() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var fatal, runtimeLine, panicLine string
	for _, buf := range [][]byte{b.head, b.tail} {
		for line := range strings.SplitSeq(string(buf), "\n") {
			line = strings.TrimSpace(line)
			switch {
			case fatal == "" && strings.HasPrefix(line, "fatal error:"):
				fatal = line
			case runtimeLine == "" && strings.HasPrefix(line, "runtime: ") &&
				!strings.HasPrefix(line, "runtime: sp=") && !strings.HasPrefix(line, "runtime: g "):
				runtimeLine = line
			case panicLine == "" && strings.HasPrefix(line, "panic: "):
				panicLine = line
			}
		}
	}
	var parts []string
	for _, l := range []string{runtimeLine, fatal, panicLine} {
		if l != "" && len(parts) < 2 {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}
