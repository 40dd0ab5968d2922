package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"
)

// lingeringSrc answers at once and leaves a callback spinning: code the
// static checks refuse, loaded into a worker that skips them, so that
// the host's idle check is what must catch it.
const lingeringSrc = hdr + `
import "time"

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	time.AfterFunc(time.Millisecond, func() {
		n := 0
		for {
			n++
		}
	})
	return edge.NewResponse(200, "done"), nil
}
`

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestIdleCheckKillsWorkerRunningAfterReturn(t *testing.T) {
	logs := &syncBuffer{}
	m := newTestManager(t, func(c *ManagerConfig) {
		c.WorkerEnv = []string{envWorkerUnchecked + "=1"}
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	ctx := context.Background()
	if err := m.Load(ctx, code("calm", hostileSrc)); err != nil {
		t.Fatal(err)
	}
	if res := mustInvoke(t, m, viewerReq("calm", "/generate")); res.Outcome != OutcomeGenerated {
		t.Fatalf("calm: outcome %s (%v)", res.Outcome, res.Err)
	}
	calm := m.WorkerPIDs()
	if err := m.Load(ctx, code("linger", lingeringSrc)); err != nil {
		t.Fatal(err)
	}
	var lingering int
	for _, pid := range m.WorkerPIDs() {
		if pid != calm[0] {
			lingering = pid
		}
	}
	res := mustInvoke(t, m, viewerReq("linger", "/"))
	if res.Outcome != OutcomeGenerated {
		t.Fatalf("linger: outcome %s (%v)", res.Outcome, res.Err)
	}
	// The lingering worker spins at 100% of a CPU once the handler has
	// returned; within a second of that it must be killed.
	took := poll.Until(t, 3*time.Second, "the lingering worker killed", func() error {
		if processAlive(lingering) {
			cpu, _ := processCPU(lingering)
			return fmt.Errorf("worker %d alive, %s of CPU", lingering, cpu)
		}
		return nil
	})
	t.Logf("lingering worker killed %s after the handler returned", took)
	if took > time.Second+2*idleCPUWindow {
		t.Errorf("killed after %s, want within about a second", took)
	}
	if !bytes.Contains([]byte(logs.String()), []byte(ErrRanAfterReturn.Error())) {
		t.Errorf("no log line naming %q; logs:\n%s", ErrRanAfterReturn, logs)
	}
	// The idle, well-behaved worker lived through the same windows.
	if !processAlive(calm[0]) {
		t.Errorf("the calm worker %d was killed too", calm[0])
	}
	// The function is served again by a fresh worker (the first call may
	// still meet the killed worker's verdict while it is replaced).
	poll.Until(t, 10*time.Second, "the function served again after the recycle", func() error {
		if res := mustInvoke(t, m, viewerReq("linger", "/")); res.Outcome != OutcomeGenerated {
			return fmt.Errorf("outcome %s (%v)", res.Outcome, res.Err)
		}
		return nil
	})
}

// processCPU is a process's user plus system CPU time.
func processCPU(pid int) (time.Duration, error) {
	c := newIdleCheck(pid)
	defer c.close()
	if c.f == nil {
		return 0, fmt.Errorf("process %d is gone", pid)
	}
	n, err := c.f.ReadAt(c.buf[:], 0)
	if n == 0 {
		return 0, fmt.Errorf("reading stat of %d: %w", pid, err)
	}
	return parseStatCPU(c.buf[:n])
}

func TestParseStatCPU(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"42 (edge lab) S 1 42 42 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 3 0 1 1 1", 2 * time.Second, true},
		{"42 (a) b) R 1 2 3 4 5 6 7 8 9 10 7 3 0", 100 * time.Millisecond, true},
		{"42 edgelab S 1", 0, false},
		{"42 (x) S 1 2 3", 0, false},
		{"42 (x) S 1 42 42 0 -1 4194560 100 0 0 0 -5 50 0", 0, false},
	} {
		got, err := parseStatCPU([]byte(tc.in))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseStatCPU(%q) = %s, %v; want %s, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
