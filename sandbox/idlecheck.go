package sandbox

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Handler code must not run once its invocation has returned: the static
// checks refuse every way the exposed symbols offer to schedule work for
// later (go statements, time.AfterFunc, context.AfterFunc, tickers), and
// the host verifies it at run time with an idle check: a worker with no
// call in flight that used more than idleCPULimit of CPU in each of
// idleStreak consecutive idleCPUWindows is running something nobody
// asked for, and is killed (ErrRanAfterReturn) and recycled. An idle
// worker's own work stays below that: its sysmon heartbeat is far below
// the limit, and a garbage collection after a large invocation is one
// burst, not a streak; a handler spinning on a CPU shared with other
// processes still gets more than a tenth of it.
const (
	idleCPUWindow = 200 * time.Millisecond
	idleCPULimit  = 20 * time.Millisecond
	idleStreak    = 3
)

// clockTicks is the unit of /proc/<pid>/stat's CPU times (USER_HZ, 100
// on every Linux the lab runs on).
const clockTicks = 100

// idleCheck follows one worker's CPU time across idle windows. Not safe
// for concurrent use (the proc's watchdog owns it).
type idleCheck struct {
	f *os.File // /proc/<pid>/stat, re-read in place; nil: no check
	// The previous look: whether the worker was idle, the call count, CPU.
	wasIdle bool
	calls   uint64
	cpu     time.Duration
	streak  int // consecutive idle windows over idleCPULimit
	buf     [1024]byte
}

func newIdleCheck(pid int) *idleCheck {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return &idleCheck{} // the process is gone; waitExit notices
	}
	return &idleCheck{f: f}
}

func (c *idleCheck) close() {
	if c.f != nil {
		_ = c.f.Close()
	}
}

// observe takes one look: idle says no call is in flight now, calls is
// the count of calls ever sent. It returns an error when, for idleStreak
// looks in a row, the worker was idle since the previous look (no call
// started in between) and used more than idleCPULimit of CPU meanwhile.
func (c *idleCheck) observe(idle bool, calls uint64) error {
	if c.f == nil {
		return nil
	}
	n, err := c.f.ReadAt(c.buf[:], 0)
	if n == 0 && err != nil {
		return nil // exiting; waitExit will notice
	}
	cpu, err := parseStatCPU(c.buf[:n])
	if err != nil {
		return nil
	}
	used := cpu - c.cpu
	if idle && c.wasIdle && calls == c.calls && used > idleCPULimit {
		c.streak++
	} else {
		c.streak = 0
	}
	c.wasIdle, c.calls, c.cpu = idle, calls, cpu
	if c.streak >= idleStreak {
		return fmt.Errorf("it used %s of CPU in the last %s, with no invocation in flight for %s", used, idleCPUWindow, idleStreak*idleCPUWindow)
	}
	return nil
}

// parseStatCPU returns utime+stime from /proc/<pid>/stat content. The
// command name (field 2) is in parentheses and may hold spaces, so the
// fields are counted from the last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected stat content %q", truncate(string(b), 64))
	}
	fields := bytes.Fields(b[i+1:])
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return 0, fmt.Errorf("stat has %d fields after the command", len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] {
		v, err := strconv.ParseInt(string(f), 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("bad CPU time %q in stat", f)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
