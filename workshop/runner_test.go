package workshop

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"sigs.k8s.io/yaml"

	"github.com/edgelab/edgelab/chaos/chaosctl"
	"github.com/edgelab/edgelab/cmd/edgectl/ctl"
	"github.com/edgelab/edgelab/lab"
	"github.com/edgelab/edgelab/latency"
	"github.com/edgelab/edgelab/topology"
)

// labVars are bound from the running lab, whatever a page exports for them.
// defaults are the values a page must export: the all-in-one's well-known
// addresses (lab.Config.BasePort's plan for lab.DefaultBasePort), so what a
// trainee types matches `edgelab up` without flags.
var labVarDefaults = map[string]string{
	"EDGELAB_ENDPOINT": ctl.DefaultEndpoint,
	"GATEWAY":          "http://127.0.0.1:" + strconv.Itoa(lab.DefaultBasePort+1010),
	"WEB":              "http://127.0.0.1:" + strconv.Itoa(lab.DefaultBasePort+1931),
	"WEB_B":            "http://127.0.0.1:" + strconv.Itoa(lab.DefaultBasePort+1932),
	"DASHBOARD":        "http://127.0.0.1:" + strconv.Itoa(lab.DefaultBasePort+10),
}

// labVarsAny are lab variables whose exported value is a shell expression or
// machine-specific; the runner binds them without comparing.
var labVarsAny = map[string]bool{"TOKEN": true, "ADMIN_TOKEN": true, "WORKDIR": true, "PATH": true}

// runner executes the blocks of the workshop in order, sharing one lab.
type runner struct {
	t       *testing.T
	root    string // repository root (commands run from here)
	work    string // $WORKDIR
	bin     string // where `go build -o` output goes
	vars    map[string]string
	lab     *lab.Lab
	pending []string
	// realistic is the scaled-down topology used for --profile realistic.
	realistic *topology.Topology
}

func (r *runner) lookup(name string) (string, bool) {
	v, ok := r.vars[name]
	return v, ok
}

// bindLab points the lab variables at l.
func (r *runner) bindLab(l *lab.Lab) {
	ep := l.Endpoints()
	r.vars["EDGELAB_ENDPOINT"] = ep.ControlPlanes[0]
	r.vars["GATEWAY"] = ep.Gateway
	for _, o := range ep.Origins {
		switch o.ID {
		case "web":
			r.vars["WEB"] = o.URL
		case "web-b":
			r.vars["WEB_B"] = o.URL
		}
	}
	r.vars["TOKEN"] = ep.Token
	r.vars["ADMIN_TOKEN"] = ep.AdminToken
	r.vars["WORKDIR"] = r.work
	r.vars["DASHBOARD"] = strings.TrimSuffix(ep.Dashboard, "/")
}

func (r *runner) closeLab() {
	if r.lab == nil {
		return
	}
	if err := r.lab.Close(); err != nil {
		r.t.Logf("closing lab: %v", err)
	}
	r.lab = nil
}

// runBlock runs one sh block and checks its expectations, retrying when the
// block asks for it.
func (r *runner) runBlock(t *testing.T, b *block) {
	t.Helper()
	if b.pend != "" {
		r.pending = append(r.pending, fmt.Sprintf("%s: %s", b.where(), b.pend))
		t.Logf("PENDING %s: %s", b.where(), b.pend)
		return
	}
	deadline := time.Now().Add(b.retry)
	for attempt := 1; ; attempt++ {
		out, err := r.runCommands(t, b)
		if err == nil && b.expect != nil {
			err = matchExpect(b.expect.body, out)
		}
		if err == nil {
			return
		}
		if b.retry > 0 && time.Now().Before(deadline) {
			time.Sleep(250 * time.Millisecond) // poll interval of a retry block, bounded by its deadline
			continue
		}
		t.Fatalf("%s (attempt %d): %v\n--- output ---\n%s", b.where(), attempt, err, out)
	}
}

// runCommands runs the commands of b and returns their combined output.
func (r *runner) runCommands(t *testing.T, b *block) (string, error) {
	cmds, err := parseCommands(b, r.lookup)
	if err != nil {
		return "", fmt.Errorf("%s: %w", b.where(), err)
	}
	if len(cmds) == 0 {
		return "", fmt.Errorf("%s: empty block", b.where())
	}
	var out bytes.Buffer
	for i, c := range cmds {
		fmt.Fprintf(&out, "$ %s\n", c.raw)
		code, err := r.exec(t, c, &out)
		if err != nil {
			return out.String(), fmt.Errorf("line %d: %w", c.line, err)
		}
		want := 0
		if i == len(cmds)-1 {
			want = b.exit
		}
		if code != want {
			return out.String(), fmt.Errorf("line %d: %q exited %d, want %d", c.line, c.raw, code, want)
		}
	}
	return out.String(), nil
}

// exec runs one command and returns its exit status; err means the runner
// could not run it at all.
func (r *runner) exec(t *testing.T, c command, out io.Writer) (int, error) {
	w := c.words
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	switch {
	case w[0] == "export":
		return 0, r.export(w[1], w[2])
	case w[0] == "mkdir":
		if len(w) != 3 || w[1] != "-p" {
			return 0, fmt.Errorf("only `mkdir -p DIR` is supported")
		}
		return 0, os.MkdirAll(r.path(w[2]), 0o755)
	case w[0] == "cat>":
		p := r.path(w[1])
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return 0, err
		}
		return 0, os.WriteFile(p, []byte(c.heredoc.body), 0o644)
	case w[0] == "cat":
		for _, f := range w[1:] {
			data, err := os.ReadFile(r.path(f))
			if err != nil {
				fmt.Fprintf(out, "cat: %v\n", err)
				return 1, nil
			}
			out.Write(data)
		}
		return 0, nil
	case w[0] == "edgectl":
		return r.edgectl(ctx, w[1:], out), nil
	case w[0] == "go" && len(w) >= 3 && w[1] == "run" && w[2] == "./cmd/edgectl":
		return r.edgectl(ctx, w[3:], out), nil
	case w[0] == "go" && len(w) >= 4 && w[1] == "run" && w[2] == "./cmd/edgelab" && w[3] == "up":
		return r.up(ctx, w[4:], out)
	case w[0] == "go" && len(w) >= 2 && (w[1] == "test" || w[1] == "build" || w[1] == "vet"):
		return r.goCmd(ctx, w[1:], out)
	case w[0] == "curl":
		req, err := parseCurl(w[1:])
		if err != nil {
			return 0, err
		}
		return req.do(ctx, out), nil
	}
	return 0, fmt.Errorf("command %q is not supported by the workshop runner", w[0])
}

func (r *runner) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(r.root, p)
}

func (r *runner) export(name, raw string) error {
	if name == "EDGELAB_ENDPOINT" {
		return r.exportEndpoints(raw)
	}
	if def, ok := labVarDefaults[name]; ok {
		if raw != def {
			return fmt.Errorf("export %s=%s: the default lab's value is %s", name, raw, def)
		}
		return nil // bound from the running lab
	}
	if name == "TOKEN" {
		return r.checkTokenExport(raw)
	}
	if labVarsAny[name] {
		return nil
	}
	words, redirect, err := splitWords(raw, r.lookup)
	if err != nil || redirect != "" || len(words) > 1 {
		return fmt.Errorf("export %s: unsupported value %q", name, raw)
	}
	v := ""
	if len(words) == 1 {
		v = words[0]
	}
	r.vars[name] = v
	return nil
}

// exportEndpoints binds EDGELAB_ENDPOINT: a comma-separated list of default
// control-plane addresses (127.0.0.1:7070 is cp1, 127.0.0.1:7071 cp2...), in
// any order, maps to the lab's replicas.
func (r *runner) exportEndpoints(raw string) error {
	var cps []string
	if r.lab != nil {
		cps = r.lab.Endpoints().ControlPlanes
	}
	var out []string
	for _, e := range strings.Split(raw, ",") {
		port, ok := strings.CutPrefix(e, "127.0.0.1:")
		n, err := strconv.Atoi(port)
		i := n - lab.DefaultBasePort
		if !ok || err != nil || i < 0 || i >= len(cps) {
			return fmt.Errorf("export EDGELAB_ENDPOINT=%s: %q is not a control plane of the default lab (%d replicas from 127.0.0.1:%d)",
				raw, e, len(cps), lab.DefaultBasePort)
		}
		out = append(out, cps[i])
	}
	r.vars["EDGELAB_ENDPOINT"] = strings.Join(out, ",")
	return nil
}

// checkTokenExport runs the page's shell expression for $TOKEN with a real
// sh (when there is one) on a copy of the lab's lab.json at the default
// data dir, and checks it yields the lab's token.
func (r *runner) checkTokenExport(raw string) error {
	sh, err := exec.LookPath("sh")
	if err != nil || r.lab == nil {
		r.t.Logf("export TOKEN=%s: not checked (no sh or no lab)", raw)
		return nil
	}
	data, err := os.ReadFile(r.lab.EndpointsFile())
	if err != nil {
		return err
	}
	dir := r.t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".edgelab"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ".edgelab", "lab.json"), data, 0o644); err != nil {
		return err
	}
	cmd := exec.Command(sh, "-c", "TOKEN="+raw+"\nprintf '%s' \"$TOKEN\"")
	cmd.Dir = dir
	got, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("export TOKEN=%s: %w", raw, err)
	}
	if string(got) != r.vars["TOKEN"] {
		return fmt.Errorf("export TOKEN=%s yields %q, want the lab's token %q", raw, got, r.vars["TOKEN"])
	}
	return nil
}

// edgectl runs edgectl in-process against the lab's first control plane
// ($EDGELAB_ENDPOINT), as the real binary would with that variable set.
// The command tree is the one cmd/edgectl builds: ctl's commands plus
// chaosctl's `chaos`.
func (r *runner) edgectl(ctx context.Context, args []string, out io.Writer) int {
	var chaosCmd *cobra.Command
	chaosCmd = chaosctl.NewCommand(func() (*grpc.ClientConn, error) {
		return ctl.DialCommand(chaosCmd)
	}, out)
	// The credentials come from the lab.json of the lab under test, as
	// edgectl finds .edgelab/lab.json next to `edgelab up`.
	var lab []string
	if r.lab != nil {
		lab = []string{"--lab", r.lab.EndpointsFile()}
	}
	for _, a := range args {
		if a == "--endpoint" || strings.HasPrefix(a, "--endpoint=") {
			return ctl.Execute(ctx, append(lab, args...), out, out, chaosCmd)
		}
	}
	full := append(append(lab, "--endpoint", r.vars["EDGELAB_ENDPOINT"]), args...)
	return ctl.Execute(ctx, full, out, out, chaosCmd)
}

// up starts the lab as `edgelab up` would, on free ports, replacing the one
// running. --data-dir and --base-port are ignored (temp dir, free ports).
func (r *runner) up(ctx context.Context, args []string, out io.Writer) (int, error) {
	cfg := lab.Config{DataDir: filepath.Join(r.t.TempDir(), "edgelab"), BasePort: 0}
	for i := 0; i < len(args); i++ {
		flag, val, hasVal := strings.Cut(args[i], "=")
		if !hasVal {
			if i+1 >= len(args) {
				return 0, fmt.Errorf("edgelab up: %s needs a value", flag)
			}
			i++
			val = args[i]
		}
		switch flag {
		case "--profile":
			cfg.Profile = val
		case "--regions":
			cfg.Regions = strings.Split(val, ",")
		case "--nodes-per-region":
			n, err := strconv.Atoi(val)
			if err != nil {
				return 0, fmt.Errorf("edgelab up: %s: %w", flag, err)
			}
			cfg.NodesPerRegion = n
		case "--latency-model":
			scale, err := latency.ParseScale(val)
			if err != nil {
				return 0, fmt.Errorf("edgelab up: %w", err)
			}
			cfg.LatencyScale = scale
		case "--data-dir", "--base-port":
		default:
			return 0, fmt.Errorf("edgelab up: flag %q is not supported by the workshop runner", flag)
		}
	}
	if cfg.Profile == "realistic" {
		// The real profile takes minutes; the runner keeps its shape (home
		// region first, then waves) on a seconds scale.
		cfg.Topology = r.realistic
	}
	r.closeLab()
	start := time.Now()
	l, err := lab.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(out, "edgelab: %v\n", err)
		return 1, nil
	}
	r.lab = l
	r.bindLab(l)
	io.WriteString(out, lab.Tour(l.Endpoints(), l.EndpointsFile(), time.Since(start)))
	return 0, nil
}

// goCmd runs the real go command from the repository root. `go build -o
// DIR` writes to a temporary directory instead of DIR.
func (r *runner) goCmd(ctx context.Context, args []string, out io.Writer) (int, error) {
	args = append([]string(nil), args...)
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-o" {
			args[i+1] = r.bin + string(filepath.Separator)
		}
	}
	cmd := exec.CommandContext(ctx, goBinary(), args...)
	cmd.Dir = r.root
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("running go %s: %w", strings.Join(args, " "), err)
	}
	return 0, nil
}

func goBinary() string {
	if p := filepath.Join(os.Getenv("GOROOT"), "bin", "go"); os.Getenv("GOROOT") != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

// scaledRealistic returns the default topology with its realistic profile
// compressed by factor (stages, jitter and scale divided), for tests.
func scaledRealistic(factor float64) (*topology.Topology, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(topology.DefaultYAML(), &doc); err != nil {
		return nil, fmt.Errorf("reading default topology: %w", err)
	}
	profiles, _ := doc["profiles"].(map[string]any)
	real, _ := profiles["realistic"].(map[string]any)
	if real == nil {
		return nil, fmt.Errorf("default topology has no realistic profile")
	}
	scaleDur := func(v any) (string, error) {
		s, _ := v.(string)
		d, err := time.ParseDuration(s)
		if err != nil {
			return "", fmt.Errorf("duration %v: %w", v, err)
		}
		return time.Duration(float64(d) / factor).String(), nil
	}
	if sc, ok := real["scale"].(float64); ok {
		real["scale"] = sc / factor
	}
	if j, ok := real["jitter"]; ok {
		d, err := scaleDur(j)
		if err != nil {
			return nil, err
		}
		real["jitter"] = d
	}
	stages, _ := real["stages"].([]any)
	for _, st := range stages {
		m, _ := st.(map[string]any)
		if m == nil {
			continue
		}
		d, err := scaleDur(m["after"])
		if err != nil {
			return nil, err
		}
		m["after"] = d
	}
	data, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return topology.Parse(data)
}
