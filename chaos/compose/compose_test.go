package compose

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeExec records commands and answers docker ps / inspect.
type fakeExec struct {
	mu   sync.Mutex
	cmds []string
	ps   string
	pid  string
	fail string // command prefix that fails
}

func (f *fakeExec) run(_ context.Context, name string, args ...string) ([]byte, error) {
	cmd := strings.Join(append([]string{name}, args...), " ")
	f.mu.Lock()
	f.cmds = append(f.cmds, cmd)
	f.mu.Unlock()
	if f.fail != "" && strings.HasPrefix(cmd, f.fail) {
		return nil, errors.New("boom")
	}
	switch {
	case strings.HasPrefix(cmd, "docker ps"):
		return []byte(f.ps), nil
	case strings.HasPrefix(cmd, "docker inspect"):
		return []byte(f.pid), nil
	}
	return nil, nil
}

func found(string) (string, error) { return "/usr/sbin/x", nil }

func TestService(t *testing.T) {
	tests := []struct {
		target, want string
		bad          bool
	}{
		{target: "node:use1-a", want: "edge-use1-a"},
		{target: "controlplane:cp2", want: "cp2"},
		{target: "controlplane:@0", want: "cp1"},
		{target: "etcd:@2", want: "etcd3"},
		{target: "etcd:etcd1", want: "etcd1"},
		{target: "origin:origin-a", want: "origin-a"},
		{target: "region:us-east-1", bad: true},
		{target: "function:f", bad: true},
		{target: "node:", bad: true},
		{target: "node:a;rm -rf /", bad: true},
		{target: "node:--privileged", bad: true},
		{target: "etcd:@-1", bad: true},
		{target: "etcd:@x", bad: true},
		{target: "nokind", bad: true},
	}
	for _, tt := range tests {
		got, err := Service(tt.target)
		if tt.bad {
			if err == nil {
				t.Errorf("Service(%q) = %q, want an error", tt.target, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Service(%q) = %q, %v; want %q", tt.target, got, err, tt.want)
		}
	}
}

func TestCommands(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		do   func(d *Docker) error
		want []string
	}{
		{"kill", func(d *Docker) error { return d.Act(ctx, "kill", "node:use1-a") }, []string{
			"docker ps -a -q --filter label=com.docker.compose.service=edge-use1-a --filter label=com.docker.compose.project=lab",
			"docker kill c1"}},
		{"pause cp", func(d *Docker) error { return d.Act(ctx, "pause", "controlplane:@1") }, []string{
			"docker ps -a -q --filter label=com.docker.compose.service=cp2 --filter label=com.docker.compose.project=lab",
			"docker pause c1"}},
		{"disconnect", func(d *Docker) error { return d.Disconnect(ctx, "etcd:@0", false) }, []string{
			"docker ps -a -q --filter label=com.docker.compose.service=etcd1 --filter label=com.docker.compose.project=lab",
			"docker network disconnect lab_edgelab c1"}},
		{"connect", func(d *Docker) error { return d.Disconnect(ctx, "etcd:@0", true) }, []string{
			"docker ps -a -q --filter label=com.docker.compose.service=etcd1 --filter label=com.docker.compose.project=lab",
			"docker network connect lab_edgelab c1"}},
		{"netem", func(d *Docker) error { return d.Netem(ctx, "node:apne1-a", 200*time.Millisecond, 0.25) }, []string{
			"docker ps -a -q --filter label=com.docker.compose.service=edge-apne1-a --filter label=com.docker.compose.project=lab",
			"docker inspect -f {{.State.Pid}} c1",
			"nsenter -t 4242 -n ip -o link show", "nsenter -t 4242 -n tc qdisc replace dev eth0 root netem delay 200000us loss 25%"}},
		{"clear netem", func(d *Docker) error { return d.ClearNetem(ctx, "node:apne1-a") }, []string{
			"docker ps -a -q --filter label=com.docker.compose.service=edge-apne1-a --filter label=com.docker.compose.project=lab",
			"docker inspect -f {{.State.Pid}} c1",
			"nsenter -t 4242 -n ip -o link show", "nsenter -t 4242 -n tc qdisc del dev eth0 root"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeExec{ps: "c1\n", pid: "4242\n"}
			d := New(Config{Project: "lab", Exec: f.run, LookPath: found})
			if err := tt.do(d); err != nil {
				t.Fatal(err)
			}
			if strings.Join(f.cmds, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("commands:\n%s\nwant:\n%s", strings.Join(f.cmds, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	missing := func(bin string) (string, error) {
		if bin == "tc" {
			return "", errors.New("not found")
		}
		return "/usr/bin/" + bin, nil
	}
	tests := []struct {
		name string
		f    *fakeExec
		look func(string) (string, error)
		do   func(d *Docker) error
		is   error
	}{
		{"no container", &fakeExec{ps: ""}, found, func(d *Docker) error { return d.Act(ctx, "stop", "node:x") }, nil},
		{"two containers", &fakeExec{ps: "a\nb\n"}, found, func(d *Docker) error { return d.Act(ctx, "stop", "node:x") }, nil},
		{"bad verb", &fakeExec{ps: "a"}, found, func(d *Docker) error { return d.Act(ctx, "rm", "node:x") }, nil},
		{"docker fails", &fakeExec{ps: "a", fail: "docker stop"}, found, func(d *Docker) error { return d.Act(ctx, "stop", "node:x") }, nil},
		{"tc missing", &fakeExec{ps: "a", pid: "1"}, missing, func(d *Docker) error { return d.Netem(ctx, "node:x", time.Second, 0) }, ErrNoIproute2},
		{"stopped container", &fakeExec{ps: "a", pid: "0"}, found, func(d *Docker) error { return d.Netem(ctx, "node:x", time.Second, 0) }, nil},
		{"nothing to shape", &fakeExec{ps: "a", pid: "1"}, found, func(d *Docker) error { return d.Netem(ctx, "node:x", 0, 0) }, nil},
		{"loss above 1", &fakeExec{ps: "a", pid: "1"}, found, func(d *Docker) error { return d.Netem(ctx, "node:x", 0, 2) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do(New(Config{Exec: tt.f.run, LookPath: tt.look}))
			if err == nil {
				t.Fatal("want an error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("error %v, want %v", err, tt.is)
			}
		})
	}
}

func TestUndo(t *testing.T) {
	for verb, want := range map[string]string{"stop": "start", "kill": "start", "pause": "unpause", "start": ""} {
		if got := Undo(verb); got != want {
			t.Errorf("Undo(%s) = %q, want %q", verb, got, want)
		}
	}
}

func TestFirstInterface(t *testing.T) {
	for _, tc := range []struct{ out, want string }{
		{"1: lo: <LOOPBACK,UP> mtu 65536\n2: eth1@if501: <BROADCAST,UP> mtu 1500\n", "eth1"},
		{"1: lo: <LOOPBACK,UP>\n2: eth0@if12: <UP>\n3: eth1@if13: <UP>\n", "eth0"},
		{"1: lo: <LOOPBACK,UP>\n", ""},
		{"garbage", ""},
		{"", ""},
	} {
		if got := firstInterface(tc.out); got != tc.want {
			t.Errorf("firstInterface(%q) = %q, want %q", tc.out, got, tc.want)
		}
	}
}
