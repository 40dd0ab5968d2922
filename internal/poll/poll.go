// Package poll is how edgelab's tests wait: a condition is checked again and
// again, with a short growing pause, until it holds or a deadline passes, and
// the test fails with what it waited for and the last reason it did not hold.
// Tests never sleep a fixed time to let something happen.
package poll

import (
	"fmt"
	"testing"
	"time"
)

// Interval bounds: the first re-check comes after MinInterval, each later
// pause doubles up to MaxInterval.
const (
	MinInterval = time.Millisecond
	MaxInterval = 50 * time.Millisecond
)

// Until calls cond until it returns nil and returns how long that took. When
// within passes first, t fails (Fatalf) naming what and cond's last error.
func Until(t testing.TB, within time.Duration, what string, cond func() error) time.Duration {
	t.Helper()
	took, err := Wait(within, cond)
	if err != nil {
		t.Fatalf("%s: not within %v: %v", what, within, err)
	}
	return took
}

// True is Until for a condition that has no reason to give.
func True(t testing.TB, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	return Until(t, within, what, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	})
}

var errNotYet = fmt.Errorf("condition still false")

// Wait is the loop under Until, for callers that are not tests (benchmarks'
// setup, helpers that report instead of failing): it returns cond's last
// error when within passes first.
func Wait(within time.Duration, cond func() error) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(within)
	pause := MinInterval
	for {
		err := cond()
		if err == nil {
			return time.Since(start), nil
		}
		if !time.Now().Before(deadline) {
			return time.Since(start), err
		}
		time.Sleep(min(pause, time.Until(deadline)))
		pause = min(2*pause, MaxInterval)
	}
}

// Report is Until for a condition that says, with its answer, the state it
// saw (the last one is in the failure message).
func Report(t testing.TB, within time.Duration, what string, cond func() (ok bool, state string)) time.Duration {
	t.Helper()
	return Until(t, within, what, func() error {
		if ok, state := cond(); !ok {
			return fmt.Errorf("last state: %s", state)
		}
		return nil
	})
}
