package lab

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTourCommandsWorkAsPrinted runs every command of the tour that
// `edgelab up` prints, with a real shell and curl, against a lab on free
// ports, and checks what each should show.
func TestTourCommandsWorkAsPrinted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a lab and builds edgectl")
	}
	for _, tool := range []string{"bash", "curl", "grep", "head"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the tour uses %s, which is not installed here", tool)
		}
	}
	l := startLab(t, "us-east-1", "ap-northeast-1")
	ep := l.Endpoints()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Hit from edgelab",
		"NRT",
		"HTTP/1.1 200",
		"HTTP/1.1 403",
		"x-edgelab-functions: viewer-request=auth:",
		"Deployed",
		"edge-ap-northeast-1-1",
		"auth",
	}
	steps := TourCommands(ep)
	if len(steps) != len(want) {
		t.Fatalf("%d tour steps, the test knows %d", len(steps), len(want))
	}
	for i, s := range steps {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", s.Command)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("tour step %q: %v\n%s\n%s", s.What, err, s.Command, out)
		}
		if !strings.Contains(strings.ToLower(string(out)), strings.ToLower(want[i])) {
			t.Fatalf("tour step %q: output lacks %q:\n%s\n%s", s.What, want[i], s.Command, out)
		}
	}
}
