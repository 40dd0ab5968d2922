package chaosctl

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/edgelab/edgelab/chaos/compose"
)

type recExec struct {
	mu   sync.Mutex
	cmds []string
}

func (r *recExec) run(_ context.Context, name string, args ...string) ([]byte, error) {
	cmd := strings.Join(append([]string{name}, args...), " ")
	r.mu.Lock()
	r.cmds = append(r.cmds, cmd)
	r.mu.Unlock()
	switch {
	case strings.HasPrefix(cmd, "docker ps"):
		return []byte("c0ffee\n"), nil
	case strings.HasPrefix(cmd, "docker inspect"):
		return []byte("4242\n"), nil
	}
	return nil, nil
}

func TestContainerCommands(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    string // a command that must have run
		wantErr string
	}{
		{[]string{"kill", "node:use1-a"}, "docker kill c0ffee", ""},
		{[]string{"pause", "controlplane:cp1"}, "docker pause c0ffee", ""},
		{[]string{"disconnect", "node:apne1-a"}, "docker network disconnect", ""},
		{[]string{"connect", "node:apne1-a"}, "docker network connect", ""},
		{[]string{"netem", "node:apne1-a", "--latency", "300ms", "--loss", "0.05"}, "nsenter -t 4242 -n tc qdisc", ""},
		{[]string{"clear-netem", "node:apne1-a"}, "nsenter -t 4242 -n tc qdisc del", ""},
		{[]string{"netem", "node:apne1-a"}, "", "give --latency and/or --loss"},
		{[]string{"netem", "node:apne1-a", "--loss", "2"}, "", "want a fraction 0..1"},
		{[]string{"kill"}, "", "accepts 1 arg"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			rec := &recExec{}
			var out bytes.Buffer
			cmd := containerCmd(&out, func(project string) *compose.Docker {
				return compose.New(compose.Config{Project: project, Exec: rec.run, LookPath: func(string) (string, error) { return "/usr/sbin/x", nil }})
			})
			cmd.SetArgs(append(tc.args, "--compose-project", "lab"))
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			err := cmd.ExecuteContext(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			all := strings.Join(rec.cmds, "\n")
			if !strings.Contains(all, tc.want) {
				t.Fatalf("commands run:\n%s\nwant one starting %q", all, tc.want)
			}
		})
	}
}
