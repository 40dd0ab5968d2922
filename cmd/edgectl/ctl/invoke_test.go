package ctl_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgelab/edgelab/controlplane"
	"github.com/edgelab/edgelab/sandbox"
)

func TestMain(m *testing.M) {
	sandbox.MaybeRunWorker()
	os.Exit(m.Run())
}

// startRealCP is a control plane whose compile checks and Invoke run in
// real sandbox workers (this test binary re-executed).
func startRealCP(t *testing.T) string {
	t.Helper()
	return serveCP(t, controlplane.Config{})
}

const invokeSrc = `package gate

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	edge.Log(ctx, "gate saw ", req.URI, " from ", req.ClientIP)
	if req.Header.Get("Authorization") != "" {
		return edge.NewResponse(403, "Forbidden"), nil
	}
	if req.URI == "/bad" {
		return &edge.Response{Status: 700}, nil
	}
	req.Header.Set("X-Gate", "open")
	return nil, nil
}
`

func TestInvokeWithCloudFrontSampleEvent(t *testing.T) {
	ep := startRealCP(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "gate.go"), []byte(invokeSrc), 0o644)
	if out, errOut, code := run(t, ep, "function", "create", "gate", "--source", dir); code != 0 {
		t.Fatalf("create: %d %s %s", code, out, errOut)
	}
	if out, errOut, code := run(t, ep, "function", "publish", "gate"); code != 0 || strings.TrimSpace(out) != "1" {
		t.Fatalf("publish: %d %q %s", code, out, errOut)
	}
	// The AWS-shaped sample carries an Authorization header: 403 generated.
	event := filepath.Join("..", "..", "..", "cfevent", "testdata", "viewer-request.json")
	out, errOut, code := run(t, ep, "invoke", "gate:1", "--event", event)
	if code != 0 {
		t.Fatalf("invoke: %d %s %s", code, out, errOut)
	}
	for _, want := range []string{"Outcome:  generated", "(cold)", `"status": "403"`, "log ", "gate saw /picture.jpg from 203.0.113.178"} {
		if !strings.Contains(out, want) {
			t.Fatalf("invoke output lacks %q:\n%s", want, out)
		}
	}
	// Second call: warm.
	out, _, _ = run(t, ep, "invoke", "gate:1", "--event", event)
	if !strings.Contains(out, "(warm)") {
		t.Fatalf("second invoke not warm:\n%s", out)
	}
	// A request that continues, with a header added.
	noAuth := filepath.Join(t.TempDir(), "event.json")
	data, _ := os.ReadFile(event)
	s := strings.Replace(string(data), `"authorization": [{"key": "Authorization", "value": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.invalid"}],`, "", 1)
	os.WriteFile(noAuth, []byte(s), 0o644)
	out, _, code = run(t, ep, "invoke", "gate:1", "--event", noAuth)
	if code != 0 || !strings.Contains(out, "Outcome:  ok") || !strings.Contains(out, "x-gate") || !strings.Contains(out, `"querystring": "Size=LARGE&color=red"`) {
		t.Fatalf("continue: code %d\n%s", code, out)
	}
	// Status 700 is a validation error, as CloudFront reports it.
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(strings.Replace(s, `"uri": "/picture.jpg"`, `"uri": "/bad"`, 1)), 0o644)
	out, _, _ = run(t, ep, "invoke", "gate:1", "--event", bad)
	if !strings.Contains(out, "LambdaValidationError") || !strings.Contains(out, "700") {
		t.Fatalf("status 700: want LambdaValidationError naming 700:\n%s", out)
	}
	// Unknown version: non-zero exit with the server's message.
	if _, errOut, code := run(t, ep, "invoke", "gate:9", "--event", event); code == 0 || !strings.Contains(errOut, "gate") {
		t.Fatalf("unknown version: code %d stderr %q", code, errOut)
	}
}
