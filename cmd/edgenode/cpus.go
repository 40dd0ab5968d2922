package main

import (
	"context"
	"log/slog"
	"runtime"
	"time"
)

// The node and its sandbox workers share the machine's CPUs. Workers run
// with one P each; a node with every P of the machine competes with them
// for cores and burns CPU in the Go scheduler's spinning threads, waking
// an idle P for every reply a worker sends. With one P left to the
// workers the node spends less CPU per function request and serves more
// of them; a node without workers keeps every P (plain cache hits need
// them).

// cpuSplitInterval is how often the split is re-checked.
const cpuSplitInterval = 250 * time.Millisecond

// nodeProcs is the GOMAXPROCS the node runs with: all of total without
// workers, total minus reserve (at least 1) with any.
func nodeProcs(total, reserve, workers int) int {
	if workers == 0 || reserve <= 0 {
		return total
	}
	return max(1, total-reserve)
}

// splitCPUs keeps the node's GOMAXPROCS at nodeProcs(total, reserve,
// workers()) until ctx is done, then restores the runtime default. set is
// runtime.GOMAXPROCS outside tests.
func splitCPUs(ctx context.Context, total, reserve int, workers func() int, set func(int), logger *slog.Logger) {
	cur := total
	t := time.NewTicker(cpuSplitInterval)
	defer t.Stop()
	for {
		if want := nodeProcs(total, reserve, workers()); want != cur {
			set(want)
			logger.Info("edge node CPU split", "gomaxprocs", want, "reserved_for_workers", total-want)
			cur = want
		}
		select {
		case <-ctx.Done():
			if cur != total {
				set(total)
			}
			return
		case <-t.C:
		}
	}
}

// setProcs applies n, or the runtime's own default when n is the total the
// node started with (so Go keeps following container CPU limits).
func setProcs(total int) func(int) {
	return func(n int) {
		if n == total {
			runtime.SetDefaultGOMAXPROCS()
			return
		}
		runtime.GOMAXPROCS(n)
	}
}
