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
)

// env returns an environment variable or a default.
func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

var (
	gatewayURL = "http://127.0.0.1:" + env("EDGELAB_GATEWAY_PORT", "8080")
	cpEndpoint = "127.0.0.1:" + env("EDGELAB_CP1_PORT", "7070")
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// run runs a command from the repository root and returns its stdout.
func run(t *testing.T, ctx context.Context, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = repoRoot(t)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// startLab brings the compose lab up unless one is already running
// (EDGELAB_E2E_REUSE=1) and tears it down afterwards (unless EDGELAB_E2E_KEEP=1).
func startLab(t *testing.T) {
	t.Helper()
	if os.Getenv("EDGELAB_E2E_REUSE") == "1" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		if os.Getenv("EDGELAB_E2E_KEEP") == "1" {
			return
		}
		dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer dcancel()
		run(t, dctx, "scripts/lab.sh", "down")
	})
	run(t, ctx, "scripts/lab.sh", "up")
}

type edgeStatus struct {
	ID      string `json:"id"`
	Region  string `json:"region"`
	Healthy bool   `json:"healthy"`
}

// poll retries f every 500ms until it returns nil or the deadline passes.
func poll(t *testing.T, within time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, within, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func TestComposeLabSmoke(t *testing.T) {
	startLab(t)
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 30 * time.Second}

	// Every edge healthy behind the gateway.
	poll(t, 3*time.Minute, "all edges healthy at the gateway", func() error {
		resp, err := client.Get(gatewayURL + "/_gateway/edges")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var edges []edgeStatus
		if err := json.NewDecoder(resp.Body).Decode(&edges); err != nil {
			return err
		}
		if len(edges) < 5 {
			return fmt.Errorf("%d edges", len(edges))
		}
		for _, e := range edges {
			if !e.Healthy {
				return fmt.Errorf("edge %s unhealthy", e.ID)
			}
		}
		return nil
	})

	// edgectl, built from this tree, talks to the published control-plane port.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	edgectl := filepath.Join(t.TempDir(), "edgectl")
	run(t, ctx, "go", "build", "-o", edgectl, "./cmd/edgectl")
	ectl := func(args ...string) string {
		return run(t, ctx, edgectl, append([]string{"--endpoint", cpEndpoint}, args...)...)
	}
	name := "hello"
	ectl("function", "create", name, "--source", "e2e/testdata/hello")
	ver := strings.TrimSpace(ectl("function", "publish", name))
	if !strings.HasSuffix(ver, "1") {
		t.Fatalf("publish printed %q, want version 1", ver)
	}
	ectl("distribution", "apply", "-f", "e2e/testdata/distribution.yaml")
	status := ectl("status", "smoke", "--wait", "--timeout", "2m")
	if !strings.Contains(status, "Deployed") {
		t.Fatalf("status after --wait:\n%s", status)
	}

	// Two viewer regions, each served by its own region's edge, function ran,
	// second request a cache hit.
	for _, tc := range []struct{ region, edge string }{
		{"us-east-1", "use1-a"},
		{"ap-northeast-1", "apne1-a"},
	} {
		t.Run(tc.region, func(t *testing.T) {
			get := func() *http.Response {
				req, _ := http.NewRequest(http.MethodGet, gatewayURL+"/static/app.js", nil)
				req.Header.Set("X-Viewer-Region", tc.region)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
				}
				return resp
			}
			first := get()
			if got := first.Header.Get("X-Edgelab-Gateway-Edge"); got != tc.edge {
				t.Errorf("served by %q, want %q", got, tc.edge)
			}
			if got := first.Header.Get("X-Edgelab-Functions"); !strings.Contains(got, "viewer-request="+name+":1") {
				t.Errorf("X-Edgelab-Functions = %q, want viewer-request=%s:1", got, name)
			}
			second := get()
			if got := second.Header.Get("X-Cache"); got != "Hit from edgelab" {
				t.Errorf("second request X-Cache = %q, want Hit from edgelab (first: %q)", got, first.Header.Get("X-Cache"))
			}
			if second.Header.Get("X-Edgelab-Pop") == "" || second.Header.Get("X-Edgelab-Node") == "" {
				t.Errorf("edge headers missing: %v", second.Header)
			}
		})
	}
}
