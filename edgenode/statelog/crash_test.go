package statelog

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/desired"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// Environment of a crash child (the test binary re-executed).
const (
	envScenario = "EDGELAB_STATELOG_CRASH_SCENARIO"
	envDir      = "EDGELAB_STATELOG_CRASH_DIR"
	envStep     = "EDGELAB_STATELOG_CRASH_STEP"
)

func TestMain(m *testing.M) {
	if sc := os.Getenv(envScenario); sc != "" {
		k, _ := strconv.Atoi(os.Getenv(envStep))
		if err := crashChild(sc, os.Getenv(envDir), k); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0) // reached the end without crashing
	}
	os.Exit(m.Run())
}

// crashScenarios prepare a dir holding the old revision; the child then
// moves it to the new revision and is killed at write step k.
var crashScenarios = map[string]func(t *testing.T, dir string){
	"append": func(t *testing.T, dir string) { prepareLog(t, dir) },
	"base":   func(t *testing.T, dir string) { prepareLog(t, dir) },
	"legacy": func(t *testing.T, dir string) {
		data, err := proto.Marshal(testState(t, 2).Snapshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/"+LegacyFileName, data, 0o600); err != nil {
			t.Fatal(err)
		}
	},
}

// prepareLog writes revision 1 as a base and revision 2 as a delta.
func prepareLog(t *testing.T, dir string) {
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s1, s2 := testState(t, 1), testState(t, 2)
	if err := l.Save(s1, desired.All(s1)); err != nil {
		t.Fatal(err)
	}
	if err := l.Save(s2, desired.Diff(s1, s2)); err != nil {
		t.Fatal(err)
	}
}

// crashChild loads dir and saves revision 3, killing itself with SIGKILL
// just before write step k.
func crashChild(scenario, dir string, k int) error {
	l, err := Open(dir)
	if err != nil {
		return err
	}
	step := 0
	l.crash = func(string) {
		if step++; step == k {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
	old, err := l.Load()
	if err != nil {
		return err
	}
	next := mustState(3)
	if scenario == "base" {
		return l.writeBase(next)
	}
	return l.Save(next, desired.Diff(old, next))
}

// TestCrashMidWriteLeavesOldOrNew kills a real process before every write
// step (and inside every write) of a save, then checks the directory holds
// exactly the old or the new revision and takes the next save.
func TestCrashMidWriteLeavesOldOrNew(t *testing.T) {
	for name, prepare := range crashScenarios {
		t.Run(name, func(t *testing.T) {
			sawOld, sawNew := false, false
			for k := 1; ; k++ {
				dir := t.TempDir()
				prepare(t, dir)
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), envScenario+"="+name, envDir+"="+dir, envStep+"="+strconv.Itoa(k))
				out, err := cmd.CombinedOutput()
				var ee *exec.ExitError
				killed := errors.As(err, &ee) && ee.ProcessState.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL
				if err != nil && !killed {
					t.Fatalf("step %d: child failed: %v\n%s", k, err, out)
				}
				got, err := Read(dir)
				if err != nil {
					t.Fatalf("step %d: reading after the crash: %v", k, err)
				}
				switch {
				case proto.Equal(got.Snapshot(), mustState(2).Snapshot()):
					sawOld = true
				case proto.Equal(got.Snapshot(), mustState(3).Snapshot()):
					sawNew = true
				default:
					t.Fatalf("step %d: state is neither revision 2 nor 3:\n%v", k, got.Snapshot())
				}
				checkTakesNextSave(t, dir, got)
				if !killed {
					if got.Revision() != 3 {
						t.Fatalf("a save that ran to the end left revision %d", got.Revision())
					}
					t.Logf("%s: %d crash points", name, k-1)
					break
				}
			}
			if !sawOld || !sawNew {
				t.Fatalf("crash points never left the old (%v) or the new (%v) revision", sawOld, sawNew)
			}
		})
	}
}

// checkTakesNextSave loads dir after a crash and saves revision 4 on top.
func checkTakesNextSave(t *testing.T, dir string, got *desired.State) {
	t.Helper()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	loaded, err := l.Load()
	if err != nil || !proto.Equal(loaded.Snapshot(), got.Snapshot()) {
		t.Fatalf("Load after the crash = %v, %v", loaded, err)
	}
	next := mustState(4)
	if err := l.Save(next, desired.Diff(loaded, next)); err != nil {
		t.Fatal(err)
	}
	again, err := Read(dir)
	if err != nil || !proto.Equal(again.Snapshot(), next.Snapshot()) {
		t.Fatalf("after the next save: %v, %v", again, err)
	}
	if _, err := os.Stat(dir + "/" + LegacyFileName); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s still there after a save: %v", LegacyFileName, err)
	}
}

// testState is revision rev of a small state that changes a bit each
// revision: distribution d moves to function f:rev, e comes and goes.
func testState(t *testing.T, rev int64) *desired.State {
	t.Helper()
	return mustState(rev)
}

func mustState(rev int64) *desired.State {
	snap := &edgelabv1.Snapshot{Revision: rev}
	for v := int64(1); v <= rev; v++ {
		snap.Functions = append(snap.Functions, &edgelabv1.FunctionVersion{Name: "f", Version: v,
			Sha256: fmt.Sprint("sha-", v), Files: []*edgelabv1.SourceFile{{Name: "f.go", Content: []byte(fmt.Sprint("package f // ", v))}}})
	}
	snap.Distributions = append(snap.Distributions, &edgelabv1.Distribution{Id: "d", Behaviors: []*edgelabv1.Behavior{{Path: "default",
		Functions: []*edgelabv1.Association{{Function: "f", Version: rev}}}}})
	if rev%2 == 1 {
		snap.Distributions = append(snap.Distributions, &edgelabv1.Distribution{Id: "e", Domains: []string{fmt.Sprint(rev)}})
	}
	st, err := desired.FromSnapshot(snap)
	if err != nil {
		panic(err)
	}
	return st
}
