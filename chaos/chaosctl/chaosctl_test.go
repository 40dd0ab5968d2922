package chaosctl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgelab/edgelab/chaos/chaosctl"
	"github.com/edgelab/edgelab/chaos/labapi"
	"github.com/edgelab/edgelab/controlplane"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/store"
	"github.com/edgelab/edgelab/store/embedded"
)

// server runs a ChaosService on an embedded etcd and returns a dialer.
func server(t *testing.T) (dial func() (*grpc.ClientConn, error), set *controlplane.FaultSet) {
	t.Helper()
	e, err := embedded.Start(context.Background(), filepath.Join(t.TempDir(), "etcd"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	cli, err := clientv3.New(clientv3.Config{Endpoints: e.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	c, err := controlplane.NewChaos(controlplane.ChaosConfig{KV: cli, Watcher: cli, Lease: cli, Keys: store.NewKeys("/t/")})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	edgelabv1.RegisterChaosServiceServer(srv, c)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = srv.Serve(lis) }()
	go func() { defer wg.Done(); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); srv.Stop(); wg.Wait() })
	addr := lis.Addr().String()
	return func() (*grpc.ClientConn, error) {
		return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}, c.Faults()
}

func run(t *testing.T, dial func() (*grpc.ClientConn, error), args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := chaosctl.NewCommand(dial, &out)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestInjectListHeal(t *testing.T) {
	dial, set := server(t)
	out, err := run(t, dial, "inject", "partition", "region:eu-west-1", "--direction", "to-node", "--duration", "1m", "-o", "json")
	if err != nil {
		t.Fatalf("inject: %v\n%s", err, out)
	}
	var injected []map[string]any
	if err := json.Unmarshal([]byte(out), &injected); err != nil || len(injected) != 1 {
		t.Fatalf("inject -o json printed %q (%v)", out, err)
	}
	id, _ := injected[0]["id"].(string)
	if injected[0]["direction"] != "to-node" || id == "" {
		t.Fatalf("injected %v", injected[0])
	}
	if out, err = run(t, dial, "inject", "origin-latency", "origin:web", "--latency", "1s"); err == nil {
		t.Fatalf("unknown origin accepted:\n%s", out)
	}
	if _, err = run(t, dial, "inject", "replication-delay", "node:n1", "--latency", "250ms", "--id", "slow-n1"); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, dial, "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ID", id, "direction=to-node", "slow-n1", "latency=250ms", "until healed"} {
		if !strings.Contains(out, want) {
			t.Errorf("list output lacks %q:\n%s", want, out)
		}
	}
	if out, err = run(t, dial, "heal", id); err != nil || !strings.Contains(out, "healed "+id) {
		t.Fatalf("heal: %v\n%s", err, out)
	}
	if _, err = run(t, dial, "heal", id); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("second heal: %v, want not found", err)
	}
	if out, err = run(t, dial, "heal", "--all"); err != nil || !strings.Contains(out, "healed slow-n1") {
		t.Fatalf("heal --all: %v\n%s", err, out)
	}
	if out, err = run(t, dial, "list", "-o", "json"); err != nil || strings.TrimSpace(out) != "[]" {
		t.Fatalf("list after heal --all: %v %q", err, out)
	}
	if got := set.All(); len(got) != 0 {
		t.Fatalf("fault set not empty: %v", got)
	}
}

func TestBadInvocations(t *testing.T) {
	dial, _ := server(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown kind", []string{"inject", "explode", "node:a"}, "unknown"},
		{"missing target", []string{"inject", "stop"}, "accepts 2 arg"},
		{"bad rate", []string{"inject", "replication-drop", "node:a", "--rate", "2"}, "rate"},
		{"bad latency flag", []string{"inject", "replication-delay", "node:a", "--latency", "soon"}, "invalid argument"},
		{"heal nothing", []string{"heal"}, "one fault id or --all"},
		{"heal both", []string{"heal", "x", "--all"}, "one fault id or --all"},
		{"bad output", []string{"list", "-o", "xml"}, "want table or json"},
		{"run missing file", []string{"run", "/nonexistent/scenario.yaml"}, "no such file"},
		{"run file and random", []string{"run", "../../deploy/scenarios/edge-kill-under-load.yaml", "--random"}, "one scenario FILE, or --random"},
		{"run nothing", []string{"run"}, "one scenario FILE, or --random"},
		{"random without lab", []string{"run", "--random", "--seed", "3", "--lab-file", "/nonexistent/lab.json"}, "edgelab up"},
		{"random bad duration", []string{"run", "--random", "--duration", "soon"}, "invalid argument"},
		{"run without lab", []string{"run", "../../deploy/scenarios/edge-kill-under-load.yaml", "--lab-file", "/nonexistent/lab.json"}, "edgelab up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run(t, dial, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// containers records container verbs.
type containers struct {
	mu   sync.Mutex
	acts []string
}

func (c *containers) Act(_ context.Context, verb, target string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.acts = append(c.acts, verb+" "+target)
	return nil
}

func TestLabAPIFaultsRouting(t *testing.T) {
	dial, set := server(t)
	conn, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	box := &containers{}
	f, err := labapi.NewFaults(labapi.FaultsConfig{Conn: conn, Containers: box})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kill, err := f.Inject(ctx, &edgelabv1.Fault{Kind: "kill", Target: "controlplane:@1"})
	if err != nil {
		t.Fatal(err)
	}
	part, err := f.Inject(ctx, &edgelabv1.Fault{Kind: "partition", Target: "region:us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Active("partition", "region:us-east-1"); len(got) != 1 {
		t.Fatalf("partition did not reach the ChaosService: %v", got)
	}
	if err := f.Heal(ctx, kill.Id); err != nil {
		t.Fatal(err)
	}
	if err := f.Heal(ctx, part.Id); err != nil {
		t.Fatal(err)
	}
	// Healing again (already gone) is not an error for the runner.
	if err := f.Heal(ctx, part.Id); err != nil {
		t.Fatalf("second heal: %v", err)
	}
	if _, err := f.Inject(ctx, &edgelabv1.Fault{Kind: "nonsense", Target: "node:a"}); err == nil {
		t.Fatal("bad fault accepted")
	}
	want := "kill controlplane:cp2\nstart controlplane:cp2"
	if got := strings.Join(box.acts, "\n"); got != want {
		t.Fatalf("container actions:\n%s\nwant:\n%s", got, want)
	}
	if got := set.All(); len(got) != 0 {
		t.Fatalf("faults left: %v", got)
	}
	var nilConn error
	if _, nilConn = labapi.NewFaults(labapi.FaultsConfig{}); nilConn == nil || errors.Is(nilConn, context.Canceled) {
		t.Fatalf("NewFaults without a connection: %v", nilConn)
	}
}
