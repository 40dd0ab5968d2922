package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/sandbox/memcg/memcgtest"
)

// With a memory cgroup per worker the kernel stops a 1 GiB allocation at
// the function's limit even when the RSS watchdog is too slow to see it
// (here it looks once an hour), and the result still says memory limit.
func TestManagerCgroupMemoryLimit(t *testing.T) {
	memcgtest.Need(t)
	m := newTestManager(t, func(c *ManagerConfig) {
		c.MemoryCgroup = "auto"
		c.MemoryPollInterval = time.Hour
		c.Profile.Viewer.Timeout = 20 * time.Second
	})
	if m.cgroups == nil {
		t.Fatal("MemoryCgroup auto found no cgroup where memcg.Auto did")
	}
	parent := m.cgroups.Dir()
	if got := m.MemoryEnforcement(); !strings.Contains(got, parent) || !strings.Contains(got, "RSS watchdog every 1h0m0s") {
		t.Errorf("MemoryEnforcement = %q", got)
	}
	c := code("hog", hostileSrc)
	c.MemoryMB = 96
	if err := m.Load(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	res := mustInvoke(t, m, viewerReq("hog", "/"))
	if res.Outcome != OutcomeContinue || res.Request.Header.Get("X-Added") != "yes" {
		t.Fatalf("warm-up: %s %v", res.Outcome, res.Err)
	}
	pid := workerPID(m, "hog")
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil || !strings.Contains(string(b), "/"+filepath.Base(parent)+"/") {
		t.Fatalf("worker %d is not in a group under %s: %s (%v)", pid, parent, b, err)
	}
	groups, err := os.ReadDir(parent)
	if err != nil || len(dirs(groups)) != 1 {
		t.Fatalf("groups under %s: %v (%v), want the one worker's", parent, dirs(groups), err)
	}

	res = mustInvoke(t, m, viewerReq("hog", "/alloc"))
	if res.Outcome != OutcomeExecutionError || !errors.Is(res.Err, ErrMemoryLimit) || !strings.Contains(res.Err.Error(), "memory cgroup limit") {
		t.Fatalf("1 GiB against a 96 MB cgroup: %s %v, want %s wrapping ErrMemoryLimit from the cgroup", res.Outcome, res.Err, OutcomeExecutionError)
	}
	// The dead worker's group is gone; the next call starts a new worker
	// in a new group and works.
	res = mustInvoke(t, m, viewerReq("hog", "/"))
	if res.Outcome != OutcomeContinue || !res.Cold {
		t.Fatalf("after the kill: %s cold=%v %v, want a cold continue", res.Outcome, res.Cold, res.Err)
	}
	if after := workerPID(m, "hog"); after == pid {
		t.Fatalf("worker %d was not replaced", pid)
	}
	groups, err = os.ReadDir(parent)
	if err != nil || len(dirs(groups)) != 1 {
		t.Fatalf("groups under %s after the restart: %v (%v), want one", parent, dirs(groups), err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(parent); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("parent %s still there after Close: %v", parent, err)
	}
}

// An explicit cgroup directory that cannot be used fails NewManager; "off"
// and "auto" never do.
func TestManagerCgroupConfig(t *testing.T) {
	_, err := NewManager(ManagerConfig{MemoryCgroup: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "memory cgroups") {
		t.Fatalf("NewManager with a plain directory as its cgroup: %v", err)
	}
	for _, mode := range []string{"", "off", "auto"} {
		m, err := NewManager(ManagerConfig{MemoryCgroup: mode})
		if err != nil {
			t.Fatalf("MemoryCgroup %q: %v", mode, err)
		}
		if mode != "auto" && m.cgroups != nil {
			t.Errorf("MemoryCgroup %q made cgroups", mode)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func dirs(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}
