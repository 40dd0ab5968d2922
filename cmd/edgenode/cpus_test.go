package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"
)

func TestNodeProcs(t *testing.T) {
	for _, tc := range []struct{ total, reserve, workers, want int }{
		{2, 1, 0, 2}, // no workers: every P
		{2, 1, 3, 1},
		{8, 1, 1, 7},
		{8, 3, 5, 5},
		{1, 1, 1, 1}, // never below one
		{4, 0, 2, 4}, // reserve 0: off
	} {
		if got := nodeProcs(tc.total, tc.reserve, tc.workers); got != tc.want {
			t.Errorf("nodeProcs(%d, %d, %d) = %d, want %d", tc.total, tc.reserve, tc.workers, got, tc.want)
		}
	}
}

// TestSplitCPUsFollowsWorkers: the split tracks the worker count and the
// total is restored when the node stops.
func TestSplitCPUsFollowsWorkers(t *testing.T) {
	var workers atomic.Int64
	var mu sync.Mutex
	var sets []int
	last := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		if len(sets) == 0 {
			return 0, 0
		}
		return sets[len(sets)-1], len(sets)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		splitCPUs(ctx, 4, 1, func() int { return int(workers.Load()) }, func(n int) {
			mu.Lock()
			sets = append(sets, n)
			mu.Unlock()
		}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	waitFor := func(want, count int) {
		t.Helper()
		poll.Until(t, 10*time.Second, fmt.Sprintf("GOMAXPROCS %d after %d calls", want, count), func() error {
			if v, n := last(); v != want || n != count {
				return fmt.Errorf("set to %d (%d calls)", v, n)
			}
			return nil
		})
	}
	workers.Store(2)
	waitFor(3, 1)
	workers.Store(0)
	waitFor(4, 2)
	workers.Store(1)
	waitFor(3, 3)
	cancel()
	<-done
	if v, n := last(); v != 4 || n != 4 {
		t.Fatalf("after stop: last set %d (%d calls), want the total 4 restored", v, n)
	}
}
