package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	jwtauth "github.com/edgelab/edgelab/examples/jwt-auth"
)

// Config configures a Suite run.
type Config struct {
	// OriginBin is the cmd/origin binary.
	OriginBin string
	// EdgeBin is the cmd/edgenode binary (scenarios c, d, f, g).
	EdgeBin string
	// EdgeBinB, when set, is a second cmd/edgenode binary to compare with
	// EdgeBin: scenarios c, d, f and g also run on it, right before or
	// after the same scenario on EdgeBin in every round (the order swaps
	// each round), and the report gets an A/B table (Report.AB).
	EdgeBinB string
	// ABLabels name A and B in the A/B table (default: the binaries' paths).
	ABLabels [2]string
	// BenchBin is the edgebench binary; its `node --inprocess` mode runs
	// scenario e (and every edge scenario when PprofDir is set).
	BenchBin string
	// SandboxTestBin is a compiled `go test -c ./sandbox` binary for the
	// invocation, cold start, RSS and HS256 benchmarks ("" = skip them).
	SandboxTestBin string
	// RepoDir is the repository root (examples/jwt-auth, sandbox test dir).
	RepoDir string
	// Wrk is the wrk binary; "" uses the built-in Go load generator.
	Wrk string
	// Nginx is the nginx binary; "" skips scenarios a and b with NginxSkip as the reason.
	Nginx     string
	NginxSkip string
	// Load shape: Threads (wrk), Conns, Duration per scenario, Warmup before each.
	Threads, Conns   int
	Duration, Warmup time.Duration
	// Rounds measures every scenario this many times, interleaved; the
	// table shows the run with the median req/s. Default 1.
	Rounds int
	// GoBenchTime is -test.benchtime for the sandbox benchmarks. Default "1s".
	GoBenchTime string
	// Scenarios limits the load scenarios run (subset of ScenarioKeys; "" = all).
	Scenarios string
	// PprofDir, when set, runs the edge scenarios on BenchBin with a pprof
	// endpoint and saves a CPU profile of each measured run there.
	PprofDir string
	// Log receives progress lines. Nil: io.Discard.
	Log io.Writer
}

// Suite runs the benchmark scenarios. Create with NewSuite; Run once.
type Suite struct {
	cfg   Config
	tmp   string
	procs []*proc
	token string
	// failed keeps the work dir (process logs) for inspection.
	failed bool
}

// NewSuite checks cfg and returns a suite.
func NewSuite(cfg Config) (*Suite, error) {
	for name, p := range map[string]string{"origin": cfg.OriginBin, "edgenode": cfg.EdgeBin, "edgebench": cfg.BenchBin} {
		if p == "" {
			return nil, fmt.Errorf("bench: %s binary not set", name)
		}
	}
	if cfg.Scenarios == "" {
		cfg.Scenarios = ScenarioKeys
	}
	for _, r := range cfg.Scenarios {
		if !strings.ContainsRune(ScenarioKeys, r) {
			return nil, fmt.Errorf("bench: unknown scenario %q (want letters of %s)", r, ScenarioKeys)
		}
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.Warmup < 0 {
		cfg.Warmup = 0
	}
	if cfg.Rounds <= 0 {
		cfg.Rounds = 1
	}
	if cfg.GoBenchTime == "" {
		cfg.GoBenchTime = "1s"
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	return &Suite{cfg: cfg}, nil
}

func (s *Suite) logf(format string, args ...any) {
	fmt.Fprintf(s.cfg.Log, "bench: "+format+"\n", args...)
}

func (s *Suite) want(key string) bool { return strings.Contains(s.cfg.Scenarios, key) }

// Run measures every scenario and returns the report. Every process it
// started is stopped before it returns. A scenario that fails is recorded as
// skipped with the reason; Run fails only when the origin cannot start.
func (s *Suite) Run(ctx context.Context) (rep Report, err error) {
	rep = Report{Loads: map[string]Result{}, Rounds: map[string][]Result{}, Skipped: map[string]string{}}
	s.tmp, err = os.MkdirTemp("", "edgelab-bench-")
	if err != nil {
		return rep, fmt.Errorf("bench: %w", err)
	}
	s.logf("work dir %s (logs of every process)", s.tmp)
	defer func() {
		for i := len(s.procs) - 1; i >= 0; i-- {
			s.procs[i].stop(5 * time.Second)
		}
		if s.failed || err != nil {
			s.logf("kept %s for its process logs", s.tmp)
		} else {
			_ = os.RemoveAll(s.tmp)
		}
	}()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "bench", "exp": time.Now().Add(24 * time.Hour).Unix(),
	}).SignedString([]byte(jwtauth.Secret))
	if err != nil {
		return rep, fmt.Errorf("bench: minting token: %w", err)
	}
	s.token = tok

	originAddr, err := freeAddr()
	if err != nil {
		return rep, err
	}
	origin, err := s.start("origin", s.cfg.OriginBin, "--listen", originAddr, "--id", "bench-origin")
	if err != nil {
		return rep, err
	}
	if err := waitStatus(ctx, origin, probe{URL: "http://" + originAddr + "/objects/1k"}, 200, 20*time.Second); err != nil {
		return rep, fmt.Errorf("bench: origin: %w", err)
	}

	// Set every target up first, then measure them interleaved in rounds so
	// that a burst of other load on the machine hits every scenario alike.
	var targets []target
	if s.want(NginxCache) || s.want(NginxProxy) {
		if s.cfg.Nginx == "" {
			for _, k := range []string{NginxCache, NginxProxy} {
				rep.Skipped[k] = s.cfg.NginxSkip
			}
		} else if ts, err := s.setupNginx(ctx, originAddr); err != nil {
			s.logf("nginx: %v", err)
			s.failed = true
			for _, k := range []string{NginxCache, NginxProxy} {
				rep.Skipped[k] = "nginx failed: " + firstLine(err.Error())
			}
		} else {
			targets = append(targets, ts...)
		}
	}
	for _, k := range []string{EdgeHit, EdgeTrivial, EdgeInProc, EdgeJWT, EdgeMiss} {
		if !s.want(k) || ctx.Err() != nil {
			continue
		}
		t, err := s.setupEdge(ctx, k, originAddr, false)
		if err != nil {
			s.logf("%s: %v", k, err)
			s.failed = true
			rep.Skipped[k] = firstLine(err.Error())
			continue
		}
		targets = append(targets, t)
		if s.cfg.EdgeBinB == "" || !slices.Contains(abScenarios, k) {
			continue
		}
		tb, err := s.setupEdge(ctx, k, originAddr, true)
		if err != nil {
			s.logf("%s on B: %v", k, err)
			s.failed = true
			rep.Skipped[k+BSuffix] = firstLine(err.Error())
			continue
		}
		targets = append(targets, tb)
	}
	runs := map[string][]Result{}
	for round := 1; round <= s.cfg.Rounds && ctx.Err() == nil; round++ {
		for _, t := range abOrder(targets, round) {
			if rep.Skipped[t.key] != "" || ctx.Err() != nil {
				continue
			}
			var during func(context.Context)
			if t.pprof != "" && round == 1 {
				during = func(ctx context.Context) { s.cpuProfile(ctx, t.key, t.pprof) }
			}
			r, err := s.measure(ctx, t, round, Load{URL: t.probe.URL, Header: t.probe.Header}, during)
			if err != nil {
				s.logf("%s: %v", t.key, err)
				s.failed = true
				rep.Skipped[t.key] = firstLine(err.Error())
				continue
			}
			runs[t.key] = append(runs[t.key], r)
		}
	}
	for k, rs := range runs {
		if rep.Skipped[k] == "" {
			rep.Loads[k] = Median(rs)
			rep.Rounds[k] = rs
		}
	}
	if s.cfg.EdgeBinB != "" {
		rep.ABNames = [2]string{s.cfg.EdgeBin, s.cfg.EdgeBinB}
		for i, l := range s.cfg.ABLabels {
			if l != "" {
				rep.ABNames[i] = l
			}
		}
		for _, k := range abScenarios {
			a, b := runs[k], runs[k+BSuffix]
			if len(a) == 0 || len(b) == 0 || rep.Skipped[k] != "" || rep.Skipped[k+BSuffix] != "" {
				continue
			}
			rep.AB = append(rep.AB, ABRow{Key: k, A: a, B: b})
		}
	}
	if s.cfg.SandboxTestBin != "" && ctx.Err() == nil {
		out, err := s.goBench(ctx)
		if err != nil {
			s.logf("go benchmarks: %v", err)
			s.failed = true
		}
		rep.Go = ParseGoBench(out)
	}
	return rep, ctx.Err()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

func (s *Suite) start(name, bin string, args ...string) (*proc, error) {
	p, err := startProc(s.tmp, name, bin, args...)
	if err != nil {
		return nil, err
	}
	s.procs = append(s.procs, p)
	return p, nil
}

// measure warms up and then runs the measured load.
func (s *Suite) measure(ctx context.Context, t target, round int, l Load, during func(context.Context)) (Result, error) {
	key := t.key
	l.Threads, l.Conns = s.cfg.Threads, s.cfg.Conns
	run := func(l Load) (Result, error) {
		if s.cfg.Wrk != "" {
			return RunWrk(ctx, s.cfg.Wrk, l)
		}
		return RunGo(ctx, l)
	}
	if s.cfg.Warmup > 0 {
		w := l
		w.Duration = s.cfg.Warmup
		if _, err := run(w); err != nil {
			return Result{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	l.Duration = s.cfg.Duration
	s.logf("round %d/%d %s. %s: %s for %s", round, s.cfg.Rounds, key, ScenarioName(key), l.URL, l.Duration)
	var bg chan struct{}
	if during != nil {
		bg = make(chan struct{})
		dctx, cancel := context.WithCancel(ctx)
		defer func() { cancel(); <-bg }()
		go func() { defer close(bg); during(dctx) }()
	}
	before, cpuErr := sampleCPU("/proc", t.pgid)
	r, err := run(l)
	if err != nil {
		return Result{}, err
	}
	if cpuErr == nil {
		var after cpuSample
		if after, cpuErr = sampleCPU("/proc", t.pgid); cpuErr == nil {
			r.CPU = cpuUse(before, after, r.CPU.Load)
		}
	}
	if cpuErr != nil {
		s.logf("%s: no CPU accounting: %v", key, cpuErr)
	}
	s.logf("%s. %.0f req/s, p50 %s, p99 %s (%d requests, %d non-2xx, %d errors, %s); CPU per request: server %s, helpers %s, load generator %s; machine idle %.0f%%",
		key, r.RPS, fmtDur(r.P50), fmtDur(r.P99), r.Requests, r.Non2xx, r.Errors, r.Tool,
		perRequest(r.CPU.Server, r.Requests), perRequest(r.CPU.Helpers, r.Requests), perRequest(r.CPU.Load, r.Requests), 100*r.CPU.Idle)
	return r, nil
}

// target is a running server ready for one scenario's load.
type target struct {
	key   string
	probe probe
	pprof string // pprof address of the node ("" = none)
	// pgid is the server's process group (its leader's pid): the node and
	// its sandbox workers, or nginx's master and workers.
	pgid int
}

func (s *Suite) setupNginx(ctx context.Context, originAddr string) ([]target, error) {
	dir := filepath.Join(s.tmp, "nginx")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cacheAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	proxyAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	nc := NginxConfig{Dir: dir, Origin: originAddr, CacheListen: cacheAddr, ProxyListen: proxyAddr}
	if os.Geteuid() == 0 {
		nc.User = "root"
	}
	conf, err := nc.Render()
	if err != nil {
		return nil, err
	}
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	p, err := s.start("nginx", s.cfg.Nginx, "-p", dir, "-c", confPath)
	if err != nil {
		return nil, err
	}
	hit := probe{URL: "http://" + cacheAddr + "/objects/1k?cc=max-age%3D3600"}
	if err := waitStatus(ctx, p, hit, 200, 20*time.Second); err != nil {
		return nil, err
	}
	if got := headerOf(ctx, hit, "X-Cache"); got != "HIT" {
		return nil, fmt.Errorf("nginx proxy_cache: X-Cache %q after a warm-up request, want HIT", got)
	}
	miss := probe{URL: "http://" + proxyAddr + "/objects/1k?cc=no-store"}
	if err := waitStatus(ctx, p, miss, 200, 10*time.Second); err != nil {
		return nil, err
	}
	var ts []target
	if s.want(NginxCache) {
		ts = append(ts, target{key: NginxCache, probe: hit, pgid: p.cmd.Process.Pid})
	}
	if s.want(NginxProxy) {
		ts = append(ts, target{key: NginxProxy, probe: miss, pgid: p.cmd.Process.Pid})
	}
	return ts, nil
}

// headerOf returns one response header of a GET (empty on error).
func headerOf(ctx context.Context, pr probe, name string) string {
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := pr.get(ctx, c)
	if err != nil {
		return ""
	}
	return resp.Header.Get(name)
}

// trivialFunction is scenario d/e's viewer-request handler.
const trivialFunction = `package fn

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

// ViewerRequest adds one header and lets the request continue.
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	req.Header.Set("X-Bench", "1")
	return nil, nil
}
`

// distributionYAML is the one-behavior distribution in front of origin
// (fn: associate function "fn" version 1 at viewer-request).
func distributionYAML(originAddr string, fn bool) string {
	s := fmt.Sprintf(`id: bench
domains: ["*"]
origins:
  - {id: o, url: "http://%s"}
behaviors:
  - path: default
    origin: o
`, originAddr)
	if fn {
		s += "    functions:\n      viewer-request: {function: fn, version: 1}\n"
	}
	return s
}

func (s *Suite) setupEdge(ctx context.Context, key, originAddr string, b bool) (target, error) {
	name := "edge-" + key
	if b {
		name += "-B"
	}
	dir := filepath.Join(s.tmp, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return target{}, err
	}
	var fnSpec string
	switch key {
	case EdgeTrivial, EdgeInProc:
		fnDir := filepath.Join(dir, "fn")
		if err := os.MkdirAll(fnDir, 0o755); err != nil {
			return target{}, err
		}
		if err := os.WriteFile(filepath.Join(fnDir, "fn.go"), []byte(trivialFunction), 0o644); err != nil {
			return target{}, err
		}
		fnSpec = "fn:1=" + fnDir
	case EdgeJWT:
		fnSpec = "fn:1=" + filepath.Join(s.cfg.RepoDir, "examples", "jwt-auth")
	}
	distPath := filepath.Join(dir, "distribution.yaml")
	if err := os.WriteFile(distPath, []byte(distributionYAML(originAddr, fnSpec != "")), 0o644); err != nil {
		return target{}, err
	}
	addr, err := freeAddr()
	if err != nil {
		return target{}, err
	}
	args := []string{"--listen", addr, "--id", "bench-" + key, "--distribution", distPath}
	if fnSpec != "" {
		args = append(args, "--function", fnSpec)
	}
	bin := s.cfg.EdgeBin
	if b {
		bin = s.cfg.EdgeBinB
	}
	var pprofAddr string
	if key == EdgeInProc || (s.cfg.PprofDir != "" && !b) {
		bin = s.cfg.BenchBin
		args = append([]string{"node"}, args...)
		if key == EdgeInProc {
			args = append(args, "--inprocess")
		}
		if s.cfg.PprofDir != "" {
			if pprofAddr, err = freeAddr(); err != nil {
				return target{}, err
			}
			args = append(args, "--pprof", pprofAddr)
		}
	}
	p, err := s.start(name, bin, args...)
	if err != nil {
		return target{}, err
	}

	base := "http://" + addr
	pr := probe{URL: base + "/objects/1k?cc=max-age%3D3600"}
	wantCache := "Hit from edgelab"
	switch key {
	case EdgeMiss:
		pr.URL = base + "/objects/1k?cc=no-store"
		wantCache = "Miss from edgelab"
	case EdgeJWT:
		pr.Header = map[string]string{"Authorization": "Bearer " + s.token}
		if err := waitStatus(ctx, p, probe{URL: pr.URL}, 403, 30*time.Second); err != nil {
			return target{}, fmt.Errorf("JWT function must refuse a request without a token: %w", err)
		}
	}
	if err := waitStatus(ctx, p, pr, 200, 30*time.Second); err != nil {
		return target{}, err
	}
	if got := headerOf(ctx, pr, "X-Cache"); got != wantCache {
		return target{}, fmt.Errorf("X-Cache %q, want %q", got, wantCache)
	}
	if fnSpec != "" && headerOf(ctx, pr, "X-Edgelab-Functions") == "" {
		return target{}, errors.New("no X-Edgelab-Functions header: the function did not run")
	}
	if b {
		key += BSuffix
	}
	return target{key: key, probe: pr, pprof: pprofAddr, pgid: p.cmd.Process.Pid}, nil
}

// cpuProfile saves a CPU profile of most of the measured run.
func (s *Suite) cpuProfile(ctx context.Context, key, addr string) {
	secs := int(s.cfg.Duration/time.Second) - 2
	if secs < 1 {
		secs = 1
	}
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.logf("%s: pprof: %v", key, err)
		return
	}
	defer resp.Body.Close()
	if err := os.MkdirAll(s.cfg.PprofDir, 0o755); err != nil {
		s.logf("%s: pprof: %v", key, err)
		return
	}
	out := filepath.Join(s.cfg.PprofDir, "cpu-"+key+".pprof")
	f, err := os.Create(out)
	if err != nil {
		s.logf("%s: pprof: %v", key, err)
		return
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		s.logf("%s: pprof: %v", key, err)
		return
	}
	s.logf("%s: CPU profile in %s", key, out)
}

// goBench runs the sandbox benchmarks from the compiled test binary.
func (s *Suite) goBench(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	args := []string{"-test.run", "^$", "-test.bench",
		"^(BenchmarkWarmWorker|BenchmarkWarmInProcess|BenchmarkColdStart|BenchmarkWorkerRSS|BenchmarkHS256)$",
		"-test.benchtime", s.cfg.GoBenchTime, "-test.benchmem"}
	s.logf("go test -bench (sandbox): %s %s", s.cfg.SandboxTestBin, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, s.cfg.SandboxTestBin, args...)
	cmd.Dir = filepath.Join(s.cfg.RepoDir, "sandbox")
	var out strings.Builder
	cmd.Stdout = io.MultiWriter(&out, s.cfg.Log)
	cmd.Stderr = s.cfg.Log
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("sandbox benchmarks: %w", err)
	}
	return out.String(), err
}
