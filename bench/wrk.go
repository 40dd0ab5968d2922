package bench

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Result is one load run's outcome.
type Result struct {
	// RPS is completed requests per second.
	RPS float64
	// P50 and P99 are latency percentiles.
	P50, P99 time.Duration
	// Requests is the number of completed requests.
	Requests int64
	// Non2xx counts responses outside 2xx/3xx.
	Non2xx int64
	// Errors counts socket errors (connect, read, write, timeout).
	Errors int64
	// Tool names the load generator ("wrk" or "go").
	Tool string
	// CPU is where the machine's CPU went during the run (zero when not
	// measured); RunWrk fills in CPU.Load, the suite the rest.
	CPU CPUUse
}

// Load describes one load run.
type Load struct {
	// URL is requested with GET on every request.
	URL string
	// Header is added to every request (e.g. Authorization).
	Header map[string]string
	// Threads is the number of wrk threads (ignored by the Go generator). Default 2.
	Threads int
	// Conns is the number of concurrent keep-alive connections. Default 64.
	Conns int
	// Duration bounds the run. Default 10s.
	Duration time.Duration
}

func (l Load) withDefaults() Load {
	if l.Threads <= 0 {
		l.Threads = 2
	}
	if l.Conns <= 0 {
		l.Conns = 64
	}
	if l.Conns < l.Threads {
		l.Conns = l.Threads
	}
	if l.Duration <= 0 {
		l.Duration = 10 * time.Second
	}
	return l
}

// RunWrk runs wrk at wrkPath with --latency and parses its report. The run
// is bounded by the load's duration plus a grace period.
func RunWrk(ctx context.Context, wrkPath string, l Load) (Result, error) {
	l = l.withDefaults()
	secs := int((l.Duration + time.Second - 1) / time.Second)
	args := []string{"--latency", "-t", strconv.Itoa(l.Threads), "-c", strconv.Itoa(l.Conns),
		"-d", strconv.Itoa(secs) + "s", "--timeout", "5s"}
	for k, v := range l.Header {
		args = append(args, "-H", k+": "+v)
	}
	args = append(args, l.URL)
	ctx, cancel := context.WithTimeout(ctx, l.Duration+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wrkPath, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return Result{}, fmt.Errorf("wrk %s: %w: %s", l.URL, err, strings.TrimSpace(string(out)))
	}
	r, err := ParseWrk(string(out))
	if err != nil {
		return Result{}, fmt.Errorf("wrk %s: %w", l.URL, err)
	}
	r.CPU.Load = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return r, nil
}

// ParseWrk reads a `wrk --latency` report. It needs the 50% and 99% latency
// lines and Requests/sec; socket errors and non-2xx/3xx counts are optional.
func ParseWrk(out string) (Result, error) {
	r := Result{Tool: "wrk"}
	var have50, have99, haveRPS bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && (f[0] == "50%" || f[0] == "99%"):
			d, err := parseWrkDuration(f[1])
			if err != nil {
				return Result{}, fmt.Errorf("latency %s: %w", f[0], err)
			}
			if f[0] == "50%" {
				r.P50, have50 = d, true
			} else {
				r.P99, have99 = d, true
			}
		case len(f) == 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil || v < 0 {
				return Result{}, fmt.Errorf("bad Requests/sec %q", f[1])
			}
			r.RPS, haveRPS = v, true
		case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil || n < 0 {
				return Result{}, fmt.Errorf("bad request count %q", f[0])
			}
			r.Requests = n
		case len(f) == 5 && f[0] == "Non-2xx" && f[3] == "responses:":
			n, err := strconv.ParseInt(f[4], 10, 64)
			if err != nil || n < 0 {
				return Result{}, fmt.Errorf("bad non-2xx count %q", f[4])
			}
			r.Non2xx = n
		case len(f) >= 2 && f[0] == "Socket" && f[1] == "errors:":
			// Socket errors: connect 0, read 0, write 0, timeout 0
			for i := 2; i+1 < len(f); i += 2 {
				n, err := strconv.ParseInt(strings.TrimSuffix(f[i+1], ","), 10, 64)
				if err != nil || n < 0 {
					return Result{}, fmt.Errorf("bad socket error count %q", f[i+1])
				}
				r.Errors += n
			}
		}
	}
	if !have50 || !have99 || !haveRPS {
		return Result{}, fmt.Errorf("not a wrk --latency report (missing 50%%, 99%% or Requests/sec): %.200q", out)
	}
	return r, nil
}

// parseWrkDuration reads wrk's "812.00us", "1.23ms", "2.00s" or "1.50m".
func parseWrkDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}}
	for _, u := range units {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || v < 0 || v > 1e6 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(v * float64(u.unit)), nil
	}
	return 0, fmt.Errorf("bad duration %q (no unit)", s)
}
