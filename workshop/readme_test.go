package workshop

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgelab/edgelab/lab"
)

// TestREADMEWalkthrough runs the README's "sh workshop" blocks (the
// walk-through) against an all-in-one lab on free ports, checking its
// "text expect" blocks, as a new user would paste them.
func TestREADMEWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a lab; skipped with -short")
	}
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := parseBlocks(filepath.Join(root, "README.md"), data)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) < 2 {
		t.Fatalf("README has %d runnable blocks, want the walk-through's", len(blocks))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l, err := lab.Start(ctx, lab.Config{DataDir: t.TempDir(), Profile: "default", Regions: []string{"us-east-1", "eu-west-1", "ap-northeast-1"}})
	if err != nil {
		t.Fatal(err)
	}
	r := &runner{t: t, root: root, work: t.TempDir(), bin: t.TempDir(), vars: map[string]string{"HOME": os.Getenv("HOME")}, lab: l}
	t.Cleanup(r.closeLab)
	r.bindLab(l)
	t.Chdir(root)
	for _, b := range blocks {
		r.runBlock(t, b)
	}
}
