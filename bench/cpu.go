package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ,
// 100 on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// cpuSample is the CPU time used so far by a server's process group and
// the machine's CPU counters, at one moment.
type cpuSample struct {
	// leader is the group leader's utime+stime (the edge node, nginx's
	// master); helpers is the rest of the group's (sandbox workers, nginx
	// workers). A process that exits between two samples drops out.
	leader, helpers time.Duration
	// idle and total are /proc/stat's aggregate jiffies (idle + iowait,
	// and the sum of all fields).
	idle, total uint64
}

// sampleCPU reads the CPU time of the process group pgid (whose leader
// has that pid) and of the machine.
func sampleCPU(procDir string, pgid int) (cpuSample, error) {
	var s cpuSample
	stat, err := os.ReadFile(filepath.Join(procDir, "stat"))
	if err != nil {
		return s, fmt.Errorf("reading %s/stat: %w", procDir, err)
	}
	if s.idle, s.total, err = parseMachineStat(stat); err != nil {
		return s, err
	}
	entries, err := os.ReadDir(procDir)
	if err != nil {
		return s, fmt.Errorf("listing %s: %w", procDir, err)
	}
	found := false
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(procDir, e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		pgrp, cpu, err := parseProcStat(b)
		if err != nil || pgrp != pgid {
			continue
		}
		if pid == pgid {
			s.leader, found = cpu, true
		} else {
			s.helpers += cpu
		}
	}
	if !found {
		return s, fmt.Errorf("process %d is not running", pgid)
	}
	return s, nil
}

// parseProcStat returns the process group and utime+stime of one
// /proc/<pid>/stat. The command name, in parentheses, may hold spaces and
// parentheses itself: the fields are counted from the last ')'.
func parseProcStat(b []byte) (pgrp int, cpu time.Duration, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errors.New("stat: no command name")
	}
	f := bytes.Fields(b[i+1:])
	// After the name: state(0) ppid(1) pgrp(2) ... utime(11) stime(12).
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("stat: %d fields after the name, want 13 or more", len(f))
	}
	pgrp, err = strconv.Atoi(string(f[2]))
	if err != nil {
		return 0, 0, fmt.Errorf("stat: pgrp: %w", err)
	}
	ut, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	st, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("stat: utime/stime: %w", err)
	}
	return pgrp, time.Duration(ut+st) * clockTick, nil
}

// parseMachineStat returns the idle (idle + iowait) and total jiffies of
// /proc/stat's "cpu" line.
func parseMachineStat(b []byte) (idle, total uint64, err error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 6 || string(f[0]) != "cpu" {
		return 0, 0, errors.New("/proc/stat: no aggregate cpu line")
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %w", err)
		}
		total += n
		if i == 3 || i == 4 { // idle, iowait
			idle += n
		}
	}
	return idle, total, nil
}

// CPUUse is where the CPU went during one measured run.
type CPUUse struct {
	// Server is the server's main process (the edge node, nginx's master);
	// Helpers its other processes (sandbox workers, nginx's workers).
	Server, Helpers time.Duration
	// Load is the load generator's CPU (zero when not known: the built-in
	// generator runs inside this process).
	Load time.Duration
	// Idle is the share of the machine's CPU time that went idle.
	Idle float64
}

// cpuUse is the difference of two samples, with the load generator's CPU.
func cpuUse(before, after cpuSample, load time.Duration) CPUUse {
	u := CPUUse{Server: after.leader - before.leader, Helpers: after.helpers - before.helpers, Load: load}
	u.Helpers = max(u.Helpers, 0) // a helper that exited takes its time with it
	if after.total > before.total {
		u.Idle = float64(after.idle-before.idle) / float64(after.total-before.total)
	}
	return u
}

// perRequest formats d spread over n requests in microseconds ("-" when
// there is nothing to show).
func perRequest(d time.Duration, n int64) string {
	if d <= 0 || n <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f us", float64(d)/float64(time.Microsecond)/float64(n))
}
