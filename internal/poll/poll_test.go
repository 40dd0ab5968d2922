package poll

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestWaitReturnsOnceTrue: the condition holds on its third check.
func TestWaitReturnsOnceTrue(t *testing.T) {
	var calls atomic.Int32
	_, err := Wait(5*time.Second, func() error {
		if calls.Add(1) < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || calls.Load() != 3 {
		t.Fatalf("err=%v calls=%d, want nil after 3 calls", err, calls.Load())
	}
}

// TestWaitGivesLastError: a condition that never holds returns its last
// reason once the deadline passed, not before.
func TestWaitGivesLastError(t *testing.T) {
	n := 0
	took, err := Wait(30*time.Millisecond, func() error {
		n++
		return errors.New("attempt " + strings.Repeat("x", n))
	})
	if err == nil || !strings.HasPrefix(err.Error(), "attempt x") || took < 30*time.Millisecond {
		t.Fatalf("err=%v took=%v", err, took)
	}
	if want := "attempt " + strings.Repeat("x", n); err.Error() != want {
		t.Fatalf("err=%q, want the last one %q", err, want)
	}
}

// fakeTB records Fatalf instead of stopping the goroutine.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = format
}

// TestTrueFailsTheTest: True reports a timeout through Fatalf.
func TestTrueFailsTheTest(t *testing.T) {
	f := &fakeTB{TB: t}
	True(f, 5*time.Millisecond, "never", func() bool { return false })
	if f.failed == "" {
		t.Fatal("True did not fail the test on timeout")
	}
	g := &fakeTB{TB: t}
	True(g, time.Second, "now", func() bool { return true })
	if g.failed != "" {
		t.Fatalf("True failed a condition that held: %s", g.failed)
	}
}
