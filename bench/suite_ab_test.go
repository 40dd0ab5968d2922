package bench

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// buildBins builds the given main packages of this module into dir.
func buildBins(t *testing.T, dir string, pkgs ...string) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	for _, pkg := range pkgs {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, filepath.Base(pkg)), "./"+pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
}

// TestSuiteAB runs the suite's A/B mode for real: origin and two edge
// nodes (the same binary twice) for scenario c, two short rounds with the
// built-in load generator. Both sides are measured in every round and the
// report carries one A/B row, while the main table shows only A.
func TestSuiteAB(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs cmd/origin and cmd/edgenode")
	}
	bin := t.TempDir()
	buildBins(t, bin, "cmd/origin", "cmd/edgenode")
	edge := filepath.Join(bin, "edgenode")
	s, err := NewSuite(Config{
		OriginBin: filepath.Join(bin, "origin"), EdgeBin: edge, EdgeBinB: edge, BenchBin: os.Args[0],
		Scenarios: EdgeHit, Rounds: 2, Duration: 300 * time.Millisecond, Threads: 1, Conns: 4,
		Log: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := s.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Skipped) != 0 {
		t.Fatalf("skipped: %v", rep.Skipped)
	}
	if len(rep.AB) != 1 || rep.AB[0].Key != EdgeHit || len(rep.AB[0].A) != 2 || len(rep.AB[0].B) != 2 {
		t.Fatalf("A/B rows %+v, want one for c with 2 rounds a side", rep.AB)
	}
	for i := range 2 {
		if rep.AB[0].A[i].RPS <= 0 || rep.AB[0].B[i].RPS <= 0 {
			t.Fatalf("round %d: A %v B %v req/s", i+1, rep.AB[0].A[i].RPS, rep.AB[0].B[i].RPS)
		}
	}
	if rep.AB[0].MeanRatio() <= 0 || rep.ABNames != [2]string{edge, edge} {
		t.Fatalf("ratio %v names %v", rep.AB[0].MeanRatio(), rep.ABNames)
	}
	if _, ok := rep.Loads[EdgeHit+BSuffix]; !ok {
		t.Fatalf("no B result in Loads: %v", rep.Loads)
	}
}
