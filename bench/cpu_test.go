package bench

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// statLine is a /proc/<pid>/stat line with the given command name, process
// group and utime/stime ticks.
func statLine(pid int, comm string, pgrp int, utime, stime uint64) string {
	return strconv.Itoa(pid) + " (" + comm + ") S 1 " + strconv.Itoa(pgrp) + " 1 0 -1 4194560 100 0 0 0 " +
		strconv.FormatUint(utime, 10) + " " + strconv.FormatUint(stime, 10) + " 0 0 20 0 1 0 100 1000 10\n"
}

func TestParseProcStat(t *testing.T) {
	pgrp, cpu, err := parseProcStat([]byte(statLine(7, "we (ird) name)", 42, 150, 50)))
	if err != nil || pgrp != 42 || cpu != 2*time.Second {
		t.Fatalf("pgrp %d cpu %s err %v, want 42 2s", pgrp, cpu, err)
	}
	for _, bad := range []string{"", "7 no parens S 1 2", "7 (x) S 1", "7 (x) S 1 pg 1 0 -1 0 0 0 0 0 1 1", "7 (x) S 1 2 1 0 -1 0 0 0 0 0 u 1"} {
		if _, _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParseMachineStat(t *testing.T) {
	idle, total, err := parseMachineStat([]byte("cpu  10 0 20 300 5 0 1 0 0 0\ncpu0 5 0 10 150 2 0 0 0 0 0\n"))
	if err != nil || idle != 305 || total != 336 {
		t.Fatalf("idle %d total %d err %v, want 305 336", idle, total, err)
	}
	for _, bad := range []string{"", "cpu0 1 2 3 4 5", "cpu 1 2 x 4 5 6"} {
		if _, _, err := parseMachineStat([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestSampleCPUGroup: a fake /proc with a group of three (leader and two
// helpers), an unrelated process and entries that are not processes.
func TestSampleCPUGroup(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("stat", "cpu  100 0 100 700 100 0 0 0 0 0\n")
	write("100/stat", statLine(100, "edgenode", 100, 300, 100))
	write("101/stat", statLine(101, "edgenode", 100, 50, 10))
	write("102/stat", statLine(102, "edgenode", 100, 20, 20))
	write("103/stat", statLine(103, "wrk", 50, 999, 999))
	write("self/stat", statLine(100, "edgenode", 100, 1, 1))
	write("104/status", "no stat file here")
	s, err := sampleCPU(dir, 100)
	if err != nil {
		t.Fatal(err)
	}
	if s.leader != 4*time.Second || s.helpers != time.Second || s.idle != 800 || s.total != 1000 {
		t.Fatalf("sample %+v, want leader 4s helpers 1s idle 800 total 1000", s)
	}
	if _, err := sampleCPU(dir, 103); err == nil {
		t.Fatal("a pid that leads no group was sampled")
	}
	if _, err := sampleCPU(filepath.Join(dir, "missing"), 100); err == nil {
		t.Fatal("a missing /proc was sampled")
	}
}

// TestSampleCPUReal reads a real process group: a child that burns some
// CPU in its own group. The loop takes about 0.3 s on the CI machine, so
// even a machine several times faster charges it whole 10 ms ticks.
func TestSampleCPUReal(t *testing.T) {
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo ready; exec sleep 30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting sh: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		if strings.TrimSpace(line) != "ready" {
			t.Fatalf("the child said %q", line)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the child did not finish its loop")
	}
	s, err := sampleCPU("/proc", cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if s.leader <= 0 || s.total == 0 || s.idle > s.total {
		t.Fatalf("sample %+v: the child's loop used no CPU, or the machine counters are off", s)
	}
}

func TestCPUUse(t *testing.T) {
	before := cpuSample{leader: time.Second, helpers: 3 * time.Second, idle: 100, total: 1000}
	after := cpuSample{leader: 4 * time.Second, helpers: 2 * time.Second, idle: 250, total: 1600}
	u := cpuUse(before, after, 7*time.Second)
	if u.Server != 3*time.Second || u.Helpers != 0 || u.Load != 7*time.Second || u.Idle != 0.25 {
		t.Fatalf("use %+v, want server 3s, helpers 0 (one exited), load 7s, idle 0.25", u)
	}
	if perRequest(3*time.Second, 100000) != "30.0 us" || perRequest(0, 5) != "-" || perRequest(time.Second, 0) != "-" {
		t.Fatal("perRequest")
	}
}

func TestWriteCPU(t *testing.T) {
	rep := Report{Loads: map[string]Result{
		EdgeTrivial: {RPS: 20000, Requests: 100000, CPU: CPUUse{Server: 3 * time.Second, Helpers: time.Second, Load: 2 * time.Second, Idle: 0.2}},
		EdgeHit:     {RPS: 50000, Requests: 250000}, // not accounted: no row
	}}
	var b bytes.Buffer
	if err := rep.WriteCPU(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"CPU per request", "d. edge hit + viewer-request", "30.0 us", "10.0 us", "20.0 us", "20%"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "c. edge hit, no function") {
		t.Errorf("a scenario without accounting has a row:\n%s", out)
	}
	b.Reset()
	if err := (Report{Loads: map[string]Result{EdgeHit: {RPS: 1}}}).WriteCPU(&b); err != nil || b.Len() != 0 {
		t.Fatalf("no accounting printed %q (%v)", b.String(), err)
	}
}
