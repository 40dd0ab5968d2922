package sandbox

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

type ctxKeyTest struct{}

func newCallCtx(parent context.Context, d time.Duration) *callCtx {
	c := &callCtx{}
	c.init(parent, time.Now().Add(d))
	return c
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestCallCtxLifecycle: the call context reports its deadline, is live
// during the call, and ends as WithDeadline plus cancel would: Canceled at
// the end of the call, DeadlineExceeded at the deadline, whichever first
// (with Done, Value and context.Cause agreeing), materialized or not.
func TestCallCtxLifecycle(t *testing.T) {
	parent := context.WithValue(context.Background(), ctxKeyTest{}, "v")
	for _, tc := range []struct {
		name        string
		materialize bool // Done before the end
		expireFirst bool
		want        error
	}{
		{"finish", false, false, context.Canceled},
		{"finish/materialized", true, false, context.Canceled},
		{"expire", false, true, context.DeadlineExceeded},
		{"expire/materialized", true, true, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := time.Hour
			if tc.expireFirst && tc.materialize {
				d = 20 * time.Millisecond // the real context's own timer expires it
			}
			c := newCallCtx(parent, d)
			if dl, ok := c.Deadline(); !ok || !dl.Equal(c.ours) {
				t.Fatalf("Deadline = %v %v, want %v", dl, ok, c.ours)
			}
			if err := c.Err(); err != nil {
				t.Fatalf("Err during the call = %v", err)
			}
			if tc.materialize {
				done := c.Done()
				if isClosed(done) {
					t.Fatal("Done closed during the call")
				}
				if tc.expireFirst {
					select {
					case <-done:
					case <-time.After(10 * time.Second):
						t.Fatal("Done not closed at the deadline")
					}
				}
			}
			if tc.expireFirst {
				c.expire()
			}
			c.finish()
			if err := c.Err(); err != tc.want {
				t.Fatalf("Err = %v, want %v", err, tc.want)
			}
			if !isClosed(c.Done()) {
				t.Fatal("Done not closed after the call")
			}
			if cause := context.Cause(c); cause != tc.want {
				t.Fatalf("Cause = %v, want %v", cause, tc.want)
			}
			if v := c.Value(ctxKeyTest{}); v != "v" {
				t.Fatalf("Value = %v, want the parent's", v)
			}
			c.expire() // late: changes nothing
			if err := c.Err(); err != tc.want {
				t.Fatalf("Err after a late expire = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestCallCtxParent: a cancelled parent cancels the call context at once
// with the parent's error and cause, before or after materialization, and
// a parent's earlier deadline is the one reported.
func TestCallCtxParent(t *testing.T) {
	cause := errors.New("client went away")
	for _, materialize := range []bool{false, true} {
		parent, cancel := context.WithCancelCause(context.Background())
		c := newCallCtx(parent, time.Hour)
		var child context.Context
		if materialize {
			var stop context.CancelFunc
			child, stop = context.WithCancel(c)
			defer stop()
		}
		cancel(cause)
		if err := c.Err(); err != context.Canceled {
			t.Fatalf("materialize=%v: Err = %v, want Canceled", materialize, err)
		}
		if got := context.Cause(c); got != cause {
			t.Fatalf("materialize=%v: Cause = %v, want the parent's", materialize, got)
		}
		c.expire()
		c.finish()
		if err := c.Err(); err != context.Canceled || context.Cause(c) != cause || !isClosed(c.Done()) {
			t.Fatalf("materialize=%v: after the call: %v %v", materialize, err, context.Cause(c))
		}
		if child != nil && !isClosed(child.Done()) {
			t.Fatal("a derived context is not cancelled with its parent")
		}
	}

	early := time.Now().Add(time.Minute)
	parent, cancel := context.WithDeadline(context.Background(), early)
	defer cancel()
	c := newCallCtx(parent, time.Hour)
	if dl, _ := c.Deadline(); !dl.Equal(early) {
		t.Fatalf("Deadline = %v, want the parent's %v", dl, early)
	}
	if !strings.Contains(c.String(), "WithDeadline") {
		t.Fatalf("String = %q", c.String())
	}
}

// TestCallCtxDerived: a context derived from the call context is
// cancelled at the end of the call and sees its deadline.
func TestCallCtxDerived(t *testing.T) {
	c := newCallCtx(context.Background(), time.Hour)
	child, cancel := context.WithTimeout(c, 2*time.Hour)
	defer cancel()
	if dl, _ := child.Deadline(); !dl.Equal(c.ours) {
		t.Fatalf("child deadline %v, want %v", dl, c.ours)
	}
	c.finish()
	select {
	case <-child.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("derived context not cancelled at the end of the call")
	}
	if child.Err() != context.Canceled {
		t.Fatalf("child Err = %v", child.Err())
	}
}

// TestCallCtxExpiredAtStart: a call whose deadline has already passed
// starts with DeadlineExceeded, as WithDeadline does.
func TestCallCtxExpiredAtStart(t *testing.T) {
	c := newCallCtx(context.Background(), 0)
	if c.Err() != context.DeadlineExceeded || !isClosed(c.Done()) {
		t.Fatalf("Err = %v", c.Err())
	}
}
