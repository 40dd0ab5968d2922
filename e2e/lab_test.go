//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"
)

// env returns an environment variable or a default.
func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// smokeHost is the only domain of the smoke distribution (testdata/distribution.yaml).
const smokeHost = "smoke.edgelab.test"

// The published ports, as docker-compose.yml and scripts/lab.sh read them.
var (
	gatewayURL = "http://127.0.0.1:" + env("EDGELAB_GATEWAY_PORT", "8080")
	cpEndpoint = "127.0.0.1:" + env("EDGELAB_CP1_PORT", "7070")
	// labFile is the endpoints file scripts/lab.sh up writes, with the lab
	// CA and the admin token edgectl authenticates with.
	// (Absolute: commands run from the repository root, tests from e2e/.)
	labFile, _ = filepath.Abs(filepath.Join("..", "build", "lab-"+env("COMPOSE_PROJECT_NAME", "edgelab")+".json"))
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// command runs a command from the repository root and returns its stdout and
// an error that carries its stderr.
func command(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String(), nil
}

// run is command that fails the test on error.
func run(t *testing.T, ctx context.Context, name string, args ...string) string {
	t.Helper()
	out, err := command(ctx, repoRoot(t), name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dumpLogsOnFailure prints every container's recent log lines when the test
// failed, so CI output shows why.
func dumpLogsOnFailure(t *testing.T) {
	t.Helper()
	root := repoRoot(t)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ps, _ := command(ctx, root, "docker-compose", "-f", "docker-compose.yml", "ps")
		logs, err := command(ctx, root, "docker-compose", "-f", "docker-compose.yml", "logs", "--no-color", "--tail=80")
		t.Logf("docker-compose ps:\n%s\ndocker-compose logs (err %v):\n%s", ps, err, logs)
	})
}

// TestMain brings the compose lab up for the tests unless one is already
// running (EDGELAB_E2E_REUSE=1), and tears it down afterwards unless
// EDGELAB_E2E_KEEP=1.
func TestMain(m *testing.M) {
	os.Exit(runWithLab(m))
}

func runWithLab(m *testing.M) int {
	if os.Getenv("EDGELAB_E2E_REUSE") == "1" {
		return m.Run()
	}
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer func() {
		if os.Getenv("EDGELAB_E2E_KEEP") == "1" {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if _, err := command(ctx, root, "scripts/lab.sh", "down"); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: lab down:", err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if _, err := command(ctx, root, "scripts/lab.sh", "up"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: lab up:", err)
		return 1
	}
	// The ports lab.sh chose (it moves busy defaults) are in build/lab-<project>.env.
	if err := loadLabEnv(root); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	return m.Run()
}

// loadLabEnv sets gatewayURL and cpEndpoint from the settings file scripts/lab.sh up wrote.
func loadLabEnv(root string) error {
	project := env("COMPOSE_PROJECT_NAME", "edgelab")
	data, err := os.ReadFile(filepath.Join(root, "build", "lab-"+project+".env"))
	if err != nil {
		return fmt.Errorf("reading the lab settings: %w", err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || os.Getenv(k) != "" {
			continue
		}
		switch k {
		case "EDGELAB_GATEWAY_PORT":
			gatewayURL = "http://127.0.0.1:" + v
		case "EDGELAB_CP1_PORT":
			cpEndpoint = "127.0.0.1:" + v
		}
	}
	return nil
}

// labEnv is the settings file scripts/lab.sh up wrote, overridden by the
// environment.
func labEnv(t *testing.T) map[string]string {
	t.Helper()
	project := env("COMPOSE_PROJECT_NAME", "edgelab")
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "build", "lab-"+project+".env"))
	if err != nil {
		t.Fatalf("reading the lab settings: %v", err)
	}
	out := map[string]string{}
	for line := range strings.SplitSeq(string(data), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			out[k] = env(k, v)
		}
	}
	return out
}

// edgectlBinary returns an edgectl to run: $EDGELAB_EDGECTL, the one
// scripts/images.sh built, or a fresh build of ./cmd/edgectl.
func edgectlBinary(t *testing.T, ctx context.Context) string {
	t.Helper()
	if p := os.Getenv("EDGELAB_EDGECTL"); p != "" {
		return p
	}
	if p := filepath.Join(repoRoot(t), "build", "image", "bin", "edgectl"); fileExists(p) {
		return p
	}
	p := filepath.Join(t.TempDir(), "edgectl")
	run(t, ctx, "go", "build", "-o", p, "./cmd/edgectl")
	return p
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

type edgeStatus struct {
	ID      string `json:"id"`
	Region  string `json:"region"`
	Healthy bool   `json:"healthy"`
}

// gatewayEdges checks that the gateway sees at least five healthy edges.
func gatewayEdges(client *http.Client) error {
	resp, err := client.Get(gatewayURL + "/_gateway/edges")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	var edges []edgeStatus
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&edges); err != nil {
		return err
	}
	if len(edges) < 5 {
		return fmt.Errorf("%d edges, want 5", len(edges))
	}
	for _, e := range edges {
		if !e.Healthy {
			return fmt.Errorf("edge %s unhealthy", e.ID)
		}
	}
	return nil
}

// get requests path on the smoke distribution through the gateway as a
// viewer in region and fails the test unless the answer is 200.
func get(t *testing.T, client *http.Client, region, path string) (*http.Response, []byte) {
	t.Helper()
	resp, body := do(t, client, smokeHost, region, path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s as %s: status %d, headers %v, body %q", path, region, resp.StatusCode, resp.Header, body)
	}
	return resp, body
}

// do requests path through the gateway with Host host ("" = the gateway's
// address) as a viewer in region.
func do(t *testing.T, client *http.Client, host, region, path string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, gatewayURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	req.Header.Set("X-Viewer-Region", region)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s as %s: %v", path, region, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		t.Fatalf("GET %s as %s: reading body: %v", path, region, err)
	}
	return resp, body
}

func TestComposeLabSmoke(t *testing.T) {
	dumpLogsOnFailure(t)
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 30 * time.Second}

	poll.Until(t, 3*time.Minute, "all edges healthy at the gateway", func() error { return gatewayEdges(client) })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	edgectl := edgectlBinary(t, ctx)
	ectl := func(args ...string) string {
		t.Helper()
		return run(t, ctx, edgectl, append([]string{"--lab", labFile, "--endpoint", cpEndpoint}, args...)...)
	}
	// Unique per run, so the test also passes against a lab it ran on before.
	runID := fmt.Sprintf("%d", time.Now().UnixNano())
	name := "smoke-" + runID[len(runID)-9:]

	// Deploy through the published control-plane port.
	ectl("function", "create", name, "--source", "e2e/testdata/hello")
	if ver := strings.TrimSpace(ectl("function", "publish", name)); ver != "1" {
		t.Fatalf("function publish printed %q, want 1", ver)
	}
	tmpl, err := os.ReadFile(filepath.Join(repoRoot(t), "e2e", "testdata", "distribution.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	distFile := filepath.Join(t.TempDir(), "distribution.yaml")
	if err := os.WriteFile(distFile, bytes.ReplaceAll(tmpl, []byte("FUNCTION"), []byte(name)), 0o644); err != nil {
		t.Fatal(err)
	}
	ectl("distribution", "apply", "-f", distFile)
	status := ectl("status", "smoke", "--wait", "--timeout", "2m")
	if !strings.Contains(status, "Deployed") {
		t.Fatalf("status after --wait:\n%s", status)
	}

	// Two viewer regions, each served by its own region's edge: the function
	// ran (X-Edgelab-Functions, and the origin saw the header it sets), the
	// first request of a new object misses and the second hits.
	wantFns := "viewer-request=" + name + ":1"
	nodes := map[string]string{}
	for _, tc := range []struct{ region, edge, pop string }{
		{"us-east-1", "use1-a", "IAD"},
		{"ap-northeast-1", "apne1-a", "NRT"},
	} {
		t.Run(tc.region, func(t *testing.T) {
			path := "/static/" + name + "-" + tc.region + ".js"
			first, _ := get(t, client, tc.region, path)
			second, _ := get(t, client, tc.region, path)
			for i, resp := range []*http.Response{first, second} {
				h := resp.Header
				if got := h.Get("X-Edgelab-Gateway-Edge"); got != tc.edge {
					t.Errorf("request %d: gateway routed to %q, want %q", i+1, got, tc.edge)
				}
				if got := h.Get("X-Edgelab-Node"); got != tc.edge {
					t.Errorf("request %d: X-Edgelab-Node = %q, want %q", i+1, got, tc.edge)
				}
				if got := h.Get("X-Edgelab-Pop"); got != tc.pop {
					t.Errorf("request %d: X-Edgelab-Pop = %q, want %q", i+1, got, tc.pop)
				}
				if got := h.Get("X-Edgelab-Functions"); !strings.Contains(got, wantFns) {
					t.Errorf("request %d: X-Edgelab-Functions = %q, want %q", i+1, got, wantFns)
				}
			}
			if got := first.Header.Get("X-Cache"); got != "Miss from edgelab" {
				t.Errorf("first request X-Cache = %q, want Miss from edgelab", got)
			}
			if got := second.Header.Get("X-Cache"); got != "Hit from edgelab" {
				t.Errorf("second request X-Cache = %q, want Hit from edgelab", got)
			}
			nodes[tc.region] = second.Header.Get("X-Edgelab-Node")

			// The function's request header reached the origin.
			_, body := get(t, client, tc.region, "/echo/"+name)
			var echo struct {
				Headers map[string][]string `json:"headers"`
			}
			if err := json.Unmarshal(body, &echo); err != nil {
				t.Fatalf("origin /echo: %v: %s", err, body)
			}
			if got := echo.Headers["X-Hello"]; len(got) != 1 || got[0] != "edgelab" {
				t.Errorf("origin saw X-Hello %q, want [edgelab] (set by the function): %s", got, body)
			}
		})
	}
	if nodes["us-east-1"] == "" || nodes["us-east-1"] == nodes["ap-northeast-1"] {
		t.Errorf("both regions served by the same edge: %v", nodes)
	}
}

// TestComposeLabDemo checks the tour's claims about the sample distribution
// that scripts/lab.sh up deploys (skipped with EDGELAB_NO_DEMO=1).
func TestComposeLabDemo(t *testing.T) {
	if os.Getenv("EDGELAB_NO_DEMO") == "1" {
		t.Skip("EDGELAB_NO_DEMO=1: the lab has no demo distribution")
	}
	dumpLogsOnFailure(t)
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 30 * time.Second}
	tests := []struct {
		name, region, path string
		status             int
		cache              string // X-Cache prefix
		functions          string // substring of X-Edgelab-Functions
	}{
		{name: "generated page", region: "us-east-1", path: "/hello", status: 200, cache: "LambdaGeneratedResponse", functions: "viewer-request=hello:"},
		{name: "jwt check without token", region: "eu-west-1", path: "/api/items", status: 403, functions: "viewer-request=auth:"},
		{name: "cached object", region: "sa-east-1", path: "/objects/1024", status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, client, "", tc.region, tc.path)
			if fns := resp.Header.Get("X-Edgelab-Functions"); strings.Contains(fns, "chaos-probe") {
				t.Skipf("a chaos scenario re-associated the demo distribution (%s): scripts/lab.sh demo restores it", fns)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; headers %v body %q", resp.StatusCode, tc.status, resp.Header, body)
			}
			if got := resp.Header.Get("X-Cache"); !strings.HasPrefix(got, tc.cache) || got == "" {
				t.Errorf("X-Cache = %q, want prefix %q", got, tc.cache)
			}
			if got := resp.Header.Get("X-Edgelab-Functions"); !strings.Contains(got, tc.functions) {
				t.Errorf("X-Edgelab-Functions = %q, want %q", got, tc.functions)
			}
		})
	}
}

// TestComposeLabTiers checks the lab's second tier: each PoP's misses are
// answered by the REC of its area (docs/tiers.md), and the second PoP of an
// area hits at the REC an object the first one's miss put there.
func TestComposeLabTiers(t *testing.T) {
	dumpLogsOnFailure(t)
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 30 * time.Second}
	for _, tc := range []struct{ region, pop, rec string }{
		{"us-east-1", "IAD", "us-east-1"},
		{"sa-east-1", "GRU", "us-east-1"},
		{"eu-west-1", "DUB", "eu-central-1"},
		{"ap-northeast-1", "NRT", "ap-northeast-1"},
		{"ap-southeast-2", "SYD", "ap-northeast-1"},
	} {
		resp, body := do(t, client, "", tc.region, "/echo/tiers") // no-store: a miss at both tiers
		if resp.StatusCode != 200 || resp.Header.Get("X-Edgelab-Pop") != tc.pop || resp.Header.Get("X-Edgelab-Rec") != tc.rec {
			t.Errorf("%s: %d, X-Edgelab-Pop %q, X-Edgelab-Rec %q, want 200 from %s through REC %s; body %.200q",
				tc.region, resp.StatusCode, resp.Header.Get("X-Edgelab-Pop"), resp.Header.Get("X-Edgelab-Rec"), tc.pop, tc.rec, body)
		}
	}
	// An object size no earlier run asked for, so neither tier holds it yet.
	path := fmt.Sprintf("/objects/%d", 1000+time.Now().UnixNano()/1000%900000)
	first, _ := do(t, client, "", "ap-northeast-1", path)
	second, _ := do(t, client, "", "ap-southeast-2", path)
	for _, c := range []struct {
		name string
		resp *http.Response
		want map[string]string
	}{
		{"NRT first", first, map[string]string{"X-Cache": "Miss from edgelab", "X-Edgelab-Rec": "ap-northeast-1", "X-Edgelab-Rec-Cache": "Miss from edgelab"}},
		{"SYD second", second, map[string]string{"X-Cache": "Miss from edgelab", "X-Edgelab-Rec": "ap-northeast-1", "X-Edgelab-Rec-Cache": "Hit from edgelab"}},
	} {
		for k, v := range c.want {
			if got := c.resp.Header.Get(k); got != v {
				t.Errorf("%s %s: %s = %q, want %q", c.name, path, k, got, v)
			}
		}
	}
}
