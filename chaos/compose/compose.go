// Package compose acts on the compose lab's containers for chaos scenarios:
// docker stop/kill/start/pause/unpause, network disconnect/connect, and
// netem delay or loss inside a container's network namespace (nsenter +
// tc from iproute2 on the host; no privileged container is needed).
//
//	target (node:use1-a, controlplane:cp1, etcd:@0, origin:origin-a)
//	   │ Service: service name in docker-compose.yml
//	   ▼
//	docker ps --filter label=com.docker.compose.service=<svc> ──▶ container id
//	   ▼
//	docker stop|kill|start|pause|unpause <id>
//	docker network disconnect|connect <network> <id>
//	docker inspect -f {{.State.Pid}} <id> ──▶ nsenter -t <pid> -n tc qdisc add|del dev eth0 root netem ...
//
// Every command goes through an Exec function, so tests check the commands
// without docker.
package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Exec runs name with args and returns its standard output; an error
// carries standard error. It must honour ctx.
type Exec func(ctx context.Context, name string, args ...string) ([]byte, error)

// RealExec runs commands with exec.CommandContext.
func RealExec(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// Config configures a Docker.
type Config struct {
	// Project is the compose project name (label com.docker.compose.project);
	// "" matches any project.
	Project string
	// Network is the compose network used by disconnect/connect; default
	// "<project>_edgelab" ("edgelab_edgelab" without a project).
	Network string
	// Interface is the container interface netem shapes; "" means the
	// container's first non-loopback interface (a network disconnect and
	// connect renames eth0 to eth1), eth0 when it cannot be listed.
	Interface string
	// Exec runs commands; nil means RealExec.
	Exec Exec
	// LookPath finds host binaries (tc, nsenter); nil means exec.LookPath.
	LookPath func(string) (string, error)
}

// Docker performs container-level faults. Safe for concurrent use.
type Docker struct {
	cfg Config
}

// New applies defaults.
func New(cfg Config) *Docker {
	if cfg.Network == "" {
		p := cfg.Project
		if p == "" {
			p = "edgelab"
		}
		cfg.Network = p + "_edgelab"
	}
	if cfg.Exec == nil {
		cfg.Exec = RealExec
	}
	if cfg.LookPath == nil {
		cfg.LookPath = exec.LookPath
	}
	return &Docker{cfg: cfg}
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// Service maps a fault target to its docker-compose.yml service:
// node:<id> -> edge-<id>, controlplane:<id> -> <id> (controlplane:@N ->
// cp<N+1>), etcd:<member> -> <member> (etcd:@N -> etcd<N+1>), origin:<id> -> <id>.
func Service(target string) (string, error) {
	kind, name, ok := strings.Cut(target, ":")
	if !ok {
		return "", fmt.Errorf("target %q: want <kind>:<name>", target)
	}
	if n, isIndex := strings.CutPrefix(name, "@"); isIndex && (kind == "controlplane" || kind == "etcd") {
		i, err := strconv.Atoi(n)
		if err != nil || i < 0 || i > 98 {
			return "", fmt.Errorf("target %q: @N wants a replica index 0-98", target)
		}
		prefix := map[string]string{"controlplane": "cp", "etcd": "etcd"}[kind]
		return prefix + strconv.Itoa(i+1), nil
	}
	if !nameRE.MatchString(name) {
		return "", fmt.Errorf("target %q: bad name", target)
	}
	switch kind {
	case "node":
		return "edge-" + name, nil
	case "controlplane", "etcd", "origin":
		return name, nil
	}
	return "", fmt.Errorf("target %q: no container for a %s target", target, kind)
}

// Container returns the id of the (one) container of a target's service,
// stopped ones included.
func (d *Docker) Container(ctx context.Context, target string) (string, error) {
	svc, err := Service(target)
	if err != nil {
		return "", err
	}
	args := []string{"ps", "-a", "-q", "--filter", "label=com.docker.compose.service=" + svc}
	if d.cfg.Project != "" {
		args = append(args, "--filter", "label=com.docker.compose.project="+d.cfg.Project)
	}
	out, err := d.cfg.Exec(ctx, "docker", args...)
	if err != nil {
		return "", fmt.Errorf("finding the container of %s: %w", svc, err)
	}
	ids := strings.Fields(string(out))
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("no container for service %s (is the compose lab up?)", svc)
	case 1:
		return ids[0], nil
	}
	return "", fmt.Errorf("service %s has %d containers %v; set the compose project", svc, len(ids), ids)
}

// Verbs that Act accepts.
var verbs = map[string]bool{"stop": true, "kill": true, "start": true, "pause": true, "unpause": true}

// Act runs docker <verb> on the target's container (stop, kill, start, pause, unpause).
func (d *Docker) Act(ctx context.Context, verb, target string) error {
	if !verbs[verb] {
		return fmt.Errorf("docker verb %q: want stop, kill, start, pause or unpause", verb)
	}
	id, err := d.Container(ctx, target)
	if err != nil {
		return err
	}
	if _, err := d.cfg.Exec(ctx, "docker", verb, id); err != nil {
		return fmt.Errorf("docker %s %s: %w", verb, target, err)
	}
	return nil
}

// Undo returns the verb that reverses verb ("" when none).
func Undo(verb string) string {
	switch verb {
	case "stop", "kill":
		return "start"
	case "pause":
		return "unpause"
	}
	return ""
}

// Disconnect takes the target's container off the compose network (connect=false) or puts it back.
func (d *Docker) Disconnect(ctx context.Context, target string, connect bool) error {
	id, err := d.Container(ctx, target)
	if err != nil {
		return err
	}
	verb := "disconnect"
	if connect {
		verb = "connect"
	}
	if _, err := d.cfg.Exec(ctx, "docker", "network", verb, d.cfg.Network, id); err != nil {
		return fmt.Errorf("docker network %s %s: %w", verb, target, err)
	}
	return nil
}

// ErrNoIproute2 means tc or nsenter is missing on the host.
var ErrNoIproute2 = errors.New("netem needs tc (iproute2) and nsenter (util-linux) on the host: install iproute2 and util-linux (e.g. apt-get install iproute2 util-linux) and run as root")

// Netem adds a netem qdisc to the container's interface: delay (0 = none)
// and loss (a fraction 0..1, 0 = none). It needs root on the host.
func (d *Docker) Netem(ctx context.Context, target string, delay time.Duration, loss float64) error {
	if delay < 0 || delay > 10*time.Minute {
		return fmt.Errorf("netem delay %v: want 0-10m", delay)
	}
	if loss < 0 || loss > 1 || loss != loss {
		return fmt.Errorf("netem loss %v: want a fraction in [0,1]", loss)
	}
	if delay == 0 && loss == 0 {
		return errors.New("netem: give a delay or a loss")
	}
	args := []string{"qdisc", "replace", "dev", devPlaceholder, "root", "netem"}
	if delay > 0 {
		args = append(args, "delay", strconv.FormatInt(delay.Microseconds(), 10)+"us")
	}
	if loss > 0 {
		args = append(args, "loss", strconv.FormatFloat(loss*100, 'f', -1, 64)+"%")
	}
	return d.tc(ctx, target, args...)
}

// ClearNetem removes the netem qdisc from the container's interface.
func (d *Docker) ClearNetem(ctx context.Context, target string) error {
	err := d.tc(ctx, target, "qdisc", "del", "dev", devPlaceholder, "root")
	if err != nil && strings.Contains(err.Error(), "handle of zero") {
		return nil // no qdisc of ours on the interface: nothing to clear
	}
	return err
}

func (d *Docker) tc(ctx context.Context, target string, args ...string) error {
	for _, bin := range []string{"tc", "nsenter"} {
		if _, err := d.cfg.LookPath(bin); err != nil {
			return fmt.Errorf("%s: %w", bin, ErrNoIproute2)
		}
	}
	id, err := d.Container(ctx, target)
	if err != nil {
		return err
	}
	out, err := d.cfg.Exec(ctx, "docker", "inspect", "-f", "{{.State.Pid}}", id)
	if err != nil {
		return fmt.Errorf("finding the pid of %s: %w", target, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || pid <= 0 {
		return fmt.Errorf("container of %s is not running (pid %q)", target, strings.TrimSpace(string(out)))
	}
	dev := d.cfg.Interface
	if dev == "" {
		dev = "eth0"
		if out, err := d.cfg.Exec(ctx, "nsenter", "-t", strconv.Itoa(pid), "-n", "ip", "-o", "link", "show"); err == nil {
			if name := firstInterface(string(out)); name != "" {
				dev = name
			}
		}
	}
	args = append([]string(nil), args...)
	for i, a := range args {
		if a == devPlaceholder {
			args[i] = dev
		}
	}
	full := append([]string{"-t", strconv.Itoa(pid), "-n", "tc"}, args...)
	if _, err := d.cfg.Exec(ctx, "nsenter", full...); err != nil {
		if strings.Contains(err.Error(), "qdisc kind is unknown") {
			return fmt.Errorf("netem on %s: the host kernel has no netem qdisc (try `modprobe sch_netem` as root): %w", target, err)
		}
		return fmt.Errorf("netem on %s: %w", target, err)
	}
	return nil
}

// devPlaceholder stands for the container's interface in tc arguments until
// the container's namespace has been looked at.
const devPlaceholder = "\x00dev"

// firstInterface picks the first non-loopback interface from `ip -o link
// show` output ("2: eth1@if501: <BROADCAST,...> ..."), or "".
func firstInterface(out string) string {
	for _, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		name := strings.TrimSuffix(fields[1], ":")
		if i := strings.IndexByte(name, '@'); i >= 0 {
			name = name[:i]
		}
		if name != "" && name != "lo" {
			return name
		}
	}
	return ""
}
