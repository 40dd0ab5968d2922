package sandbox

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// callCtx is the context of one handler call: what
// context.WithDeadline(parent, deadline) plus its cancel at the end of the
// call give, without their cost on the common path. WithDeadline
// allocates a timer and a cancelCtx (and registers it with a cancellable
// parent) for every call, while most handlers only read Deadline (the
// edge SDK) or never look at the context at all.
//
// Deadline and Err are answered from the call's own state: the program's
// timeout timer calls expire at the deadline, the end of the call calls
// finish, and a cancelled parent is read through parent.Err. The first
// Done or Value call (a fetch, a derived context, context.Cause) turns it
// into a real context.WithDeadline(parent, deadline), brought to the same
// state, and everything is answered by that from then on: channels, child
// registration and causes are the standard library's own.
type callCtx struct {
	parent context.Context
	// parentCancellable: parent.Done() != nil at creation.
	parentCancellable bool
	// ours is the call's deadline; deadline is what Deadline reports:
	// the parent's when it is earlier (as WithDeadline does).
	ours, deadline time.Time

	mu sync.Mutex
	// err and cause are the context's error and cause once it is done
	// before being materialized (then they never change).
	err, cause error
	// real is the materialized context (nil until Done or Value).
	real       context.Context
	cancelReal context.CancelFunc
}

var _ context.Context = (*callCtx)(nil)

// init prepares c for a call on parent ending at deadline.
func (c *callCtx) init(parent context.Context, deadline time.Time) {
	c.parent = parent
	c.parentCancellable = parent.Done() != nil
	c.ours, c.deadline = deadline, deadline
	if pd, ok := parent.Deadline(); ok && pd.Before(deadline) {
		c.deadline = pd
	}
	if !time.Now().Before(deadline) { // WithDeadline: already expired
		c.settle(context.DeadlineExceeded)
	}
}

// Deadline reports the call's deadline (or the parent's, when earlier).
func (c *callCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// Done returns the channel closed when the call is cancelled.
func (c *callCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.materialize().Done()
}

// Err reports why the call's context is done, or nil.
func (c *callCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && c.real == nil && c.parentCancellable && c.parent.Err() != nil {
		c.settle(context.Canceled) // takes the parent's error: a cancelled parent cancels the call at once
	}
	if c.err != nil {
		return c.err
	}
	if c.real != nil {
		return c.real.Err()
	}
	return nil
}

// Value returns the parent's value for key (through the materialized
// context, so that context.Cause and derived contexts see a cancelCtx).
func (c *callCtx) Value(key any) any {
	c.mu.Lock()
	r := c.materialize()
	c.mu.Unlock()
	return r.Value(key)
}

// String describes the context as context.WithDeadline's does.
func (c *callCtx) String() string {
	name := "context"
	if s, ok := c.parent.(fmt.Stringer); ok {
		name = s.String()
	}
	return name + ".WithDeadline(" + c.ours.String() + " [" + time.Until(c.ours).String() + "])"
}

// materialize returns the real context, creating it in c's current state.
// c.mu is held.
func (c *callCtx) materialize() context.Context {
	if c.real != nil {
		return c.real
	}
	if c.err == nil {
		// Live: the standard context from here on (a parent cancelled
		// meanwhile shows in it at once).
		c.real, c.cancelReal = context.WithDeadline(c.parent, c.ours)
		return c.real
	}
	// Already done: a closed Done channel, the parent's values, and a
	// cancelCtx carrying the cause for context.Cause; Err stays c.err.
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(c.parent))
	cancel(c.cause)
	c.real, c.cancelReal = ctx, func() {}
	return c.real
}

// settle makes the context done with err unless it already is; a
// cancelled parent's error and cause come first (as they would have been
// propagated to a WithDeadline context). c.mu is held.
func (c *callCtx) settle(err error) {
	if c.err != nil {
		return
	}
	if c.parentCancellable {
		if perr := c.parent.Err(); perr != nil {
			c.err, c.cause = perr, context.Cause(c.parent)
			return
		}
	}
	c.err, c.cause = err, err
}

// expire is called when the call's deadline has passed (a materialized
// context expires by its own timer).
func (c *callCtx) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real == nil {
		c.settle(context.DeadlineExceeded)
	}
}

// finish cancels the context at the end of the call.
func (c *callCtx) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real != nil {
		c.cancelReal()
		return
	}
	c.settle(context.Canceled)
}
