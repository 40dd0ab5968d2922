package sandbox

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// workerEnvValue returns the value of key in the environment of the
// manager's only worker ("" when unset).
func workerEnvValue(t *testing.T, m *Manager, key string) string {
	t.Helper()
	pids := m.WorkerPIDs()
	if len(pids) != 1 {
		t.Fatalf("worker pids %v", pids)
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pids[0]) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	val := ""
	for kv := range strings.SplitSeq(string(b), "\x00") {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			val = v
		}
	}
	return val
}

func TestWorkerMaxProcs(t *testing.T) {
	inherited := os.Getenv("GOMAXPROCS")
	tests := []struct {
		name     string
		maxProcs int
		env      []string
		want     string
	}{
		{"default is one", 0, nil, "1"},
		{"explicit", 3, nil, "3"},
		{"negative leaves the runtime default", -1, nil, inherited},
		{"WorkerEnv overrides", 0, []string{"GOMAXPROCS=2"}, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestManager(t, func(c *ManagerConfig) { c.WorkerMaxProcs, c.WorkerEnv = tt.maxProcs, tt.env })
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := m.Load(ctx, code("procs", trivialSrc)); err != nil {
				t.Fatal(err)
			}
			if got := workerEnvValue(t, m, "GOMAXPROCS"); got != tt.want {
				t.Fatalf("worker GOMAXPROCS = %q, want %q", got, tt.want)
			}
			// The worker still serves with one P.
			if res, err := m.Invoke(ctx, benchInv2("procs")); err != nil || res.Outcome != OutcomeContinue {
				t.Fatalf("%v %+v", err, res)
			}
		})
	}
}

func benchInv2(name string) Invocation {
	inv := benchInv()
	inv.Function = name
	return inv
}

// TestLeaderCancellationLeavesNoStaleDeadline: callers whose context ends
// while they lead the reads (their interrupt sets a past read deadline)
// must not make later or concurrent callers fail, whatever deadline the
// connection is left with.
func TestLeaderCancellationLeavesNoStaleDeadline(t *testing.T) {
	m := newTestManager(t, func(c *ManagerConfig) { c.MaxConcurrency = 1024 })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := m.Load(ctx, code("trivial", trivialSrc)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				if (g+i)%2 == 0 {
					short, stop := context.WithTimeout(ctx, time.Duration(i%5)*20*time.Microsecond)
					_, _ = m.Invoke(short, benchInv()) // may end either way
					stop()
					continue
				}
				res, err := m.Invoke(ctx, benchInv())
				if err != nil || res.Outcome != OutcomeContinue {
					errs <- fmt.Errorf("goroutine %d call %d: %v %s %v", g, i, err, res.Outcome, res.Err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if res := mustInvoke(t, m, benchInv()); res.Outcome != OutcomeContinue {
		t.Fatalf("after: %+v", res)
	}
}
