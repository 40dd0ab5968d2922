package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgelab/edgelab/distribution"
)

func TestProcStopKillsGroup(t *testing.T) {
	dir := t.TempDir()
	// The shell ignores SIGTERM and has a child: stop must still end both.
	p, err := startProc(dir, "sh", "/bin/sh", "-c", `trap "" TERM; sleep 300 & echo $! > `+dir+`/child; wait`)
	if err != nil {
		t.Fatal(err)
	}
	var child int
	deadline := time.Now().Add(10 * time.Second)
	for child == 0 {
		if b, err := os.ReadFile(dir + "/child"); err == nil && strings.TrimSpace(string(b)) != "" {
			child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if time.Now().After(deadline) {
			t.Fatal("child never started")
		}
		time.Sleep(10 * time.Millisecond) // polling a file, bounded by the deadline
	}
	p.stop(200 * time.Millisecond)
	if !p.exited() {
		t.Fatal("process still running after stop")
	}
	for time.Now().Before(deadline) {
		if err := syscall.Kill(child, 0); err != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := syscall.Kill(child, 0); err == nil {
		t.Fatalf("child %d survived", child)
	}
	p.stop(time.Second) // idempotent
}

func TestStartProcMissingBinary(t *testing.T) {
	if _, err := startProc(t.TempDir(), "x", "/nonexistent/binary"); err == nil {
		t.Fatal("started a missing binary")
	}
}

func TestWaitStatus(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	if err := waitStatus(context.Background(), nil, probe{URL: srv.URL}, 200, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := waitStatus(context.Background(), nil, probe{URL: srv.URL}, 418, 200*time.Millisecond); err == nil {
		t.Fatal("want timeout error")
	}
	// A process that exits fails fast with its log.
	p, err := startProc(t.TempDir(), "dies", "/bin/sh", "-c", "echo boom; exit 3")
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop(time.Second)
	addr, _ := freeAddr()
	start := time.Now()
	err = waitStatus(context.Background(), p, probe{URL: "http://" + addr}, 200, 30*time.Second)
	if err == nil || !strings.Contains(err.Error(), "boom") || time.Since(start) > 10*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

func TestNewSuiteValidates(t *testing.T) {
	good := Config{OriginBin: "o", EdgeBin: "e", BenchBin: "b"}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"defaults", func(*Config) {}, true},
		{"subset", func(c *Config) { c.Scenarios = "cg" }, true},
		{"unknown scenario", func(c *Config) { c.Scenarios = "cz" }, false},
		{"no origin", func(c *Config) { c.OriginBin = "" }, false},
		{"no edge", func(c *Config) { c.EdgeBin = "" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.mod(&c)
			s, err := NewSuite(c)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v", err)
			}
			if err == nil && (s.cfg.Duration != 10*time.Second || s.cfg.Log == nil) {
				t.Fatalf("defaults not applied: %+v", s.cfg)
			}
		})
	}
}

func TestDistributionYAML(t *testing.T) {
	plain := distributionYAML("127.0.0.1:9", false)
	withFn := distributionYAML("127.0.0.1:9", true)
	if strings.Contains(plain, "functions") || !strings.Contains(withFn, "viewer-request: {function: fn, version: 1}") ||
		!strings.Contains(plain, `url: "http://127.0.0.1:9"`) {
		t.Fatalf("plain:\n%s\nwith fn:\n%s", plain, withFn)
	}
	for _, y := range []string{plain, withFn} {
		d, err := distribution.Parse([]byte(y))
		if err != nil {
			t.Fatalf("%v\n%s", err, y)
		}
		if len(d.GetBehaviors()) != 1 {
			t.Fatalf("behaviors %v", d.GetBehaviors())
		}
	}
}
