package sandbox

import (
	"context"
	"os"
	"strconv"
	"strings"
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
