package sandbox

import (
	"sync"
	"sync/atomic"
)

// runnerPool runs functions on long-lived goroutines. A handler needs a
// deep stack (yaegi's frames are large): on a fresh goroutine every call
// grows and copies its stack again, while a runner keeps the stack it grew
// (until a GC shrinks an idle one). There are at most as many runners as
// functions were ever running at once; callers bound that (the worker's
// host by the interpreter count, InProcess by its interpreter pools), plus
// runners left inside handlers stuck after a timeout.
//
// close stops the pool: idle runners exit at once, busy ones when their
// function returns (a runner inside a stuck handler only when the handler
// does). The worker's pool is never closed: it lives as long as the
// process.
type runnerPool struct {
	// work hands a function to an idle runner (unbuffered: a send succeeds
	// only when a runner is waiting for it).
	work chan func()
	// quit is closed by close.
	quit chan struct{}
	// live counts the runner goroutines (for tests and diagnostics).
	live atomic.Int64

	mu     sync.Mutex
	closed bool
}

func newRunnerPool() *runnerPool {
	return &runnerPool{work: make(chan func()), quit: make(chan struct{})}
}

// dispatch runs fn on an idle runner, or on a new one when all are busy.
// It returns false, without running fn, once the pool is closed.
func (rp *runnerPool) dispatch(fn func()) bool {
	select {
	case rp.work <- fn:
		return true
	default:
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.closed {
		return false
	}
	rp.live.Add(1)
	go rp.run(fn)
	return true
}

// run is one runner: fn, then whatever dispatch hands it, until close.
func (rp *runnerPool) run(fn func()) {
	defer rp.live.Add(-1)
	for {
		fn()
		fn = nil // hold nothing of the last call while idle
		select {
		case fn = <-rp.work:
		case <-rp.quit:
			return
		}
	}
}

// close stops the pool (see runnerPool); it does not wait. It is idempotent.
func (rp *runnerPool) close() {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if !rp.closed {
		rp.closed = true
		close(rp.quit)
	}
}
