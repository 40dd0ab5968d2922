package edgenode

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgelab/edgelab/desired"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

func TestApply(t *testing.T) {
	ctx := context.Background()
	o := newCountingOrigin(t, okHandler("max-age=60"))
	fr := newFakeRunner()
	fr.handlers["a"] = func(inv sandbox.Invocation) sandbox.Result {
		inv.Response.Header.Set("X-Fn", "a")
		return cont(inv)
	}
	fr.handlers["b"] = func(inv sandbox.Invocation) sandbox.Result {
		inv.Response.Header.Set("X-Fn", "b")
		return cont(inv)
	}
	n := startNode(t, fr, nil)
	if r := do(t, n, "GET", "/x", nil, ""); r.status != 403 {
		t.Fatalf("before any state: %d, want 403", r.status)
	}
	snapA := snapshot(5, o.URL, "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{assoc(evVRes, "a")}})
	if err := n.Apply(ctx, snapA, nil); err != nil {
		t.Fatal(err)
	}
	if r := do(t, n, "GET", "/x", nil, ""); r.header.Get("X-Fn") != "a" {
		t.Fatalf("state A not served")
	}
	// Re-applying the same state does not reload.
	loads := fr.loads
	if err := n.Apply(ctx, snapA, nil); err != nil {
		t.Fatal(err)
	}
	if fr.loads != loads {
		t.Fatalf("same snapshot reloaded functions")
	}

	tests := []struct {
		name    string
		snap    *edgelabv1.Snapshot
		failFn  string
		wantErr string
		wantFn  string
		wantRev int64
	}{
		{"older revision refused", snapshot(4, o.URL, "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{assoc(evVRes, "b")}}), "", "older", "a", 5},
		{"load failure keeps A", snapshot(6, o.URL, "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{assoc(evVRes, "b")}}), "b", "b:1", "a", 5},
		{"association to missing version", func() *edgelabv1.Snapshot {
			s := snapshot(6, o.URL, "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{assoc(evVRes, "b")}})
			s.Functions = nil
			return s
		}(), "", "not in the snapshot", "a", 5},
		{"unknown origin", func() *edgelabv1.Snapshot {
			s := snapshot(6, o.URL, "", &edgelabv1.Behavior{Origin: "nope"})
			return s
		}(), "", "unknown origin", "a", 5},
		{"bad origin url", snapshot(6, "ftp://x", "", &edgelabv1.Behavior{}), "", "bad url", "a", 5},
		{"swap to B", snapshot(6, o.URL, "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{assoc(evVRes, "b")}}), "", "", "b", 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fr.mu.Lock()
			fr.failLoad = map[string]bool{tc.failFn: tc.failFn != ""}
			fr.mu.Unlock()
			err := n.Apply(ctx, tc.snap, nil)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Apply error %v, want one naming %q", err, tc.wantErr)
			}
			if r := do(t, n, "GET", "/x", nil, ""); r.header.Get("X-Fn") != tc.wantFn {
				t.Fatalf("served function %q, want %q", r.header.Get("X-Fn"), tc.wantFn)
			}
			if n.Revision() != tc.wantRev {
				t.Fatalf("revision %d, want %d", n.Revision(), tc.wantRev)
			}
		})
	}
	// a:1 is unloaded once the old state drains (asynchronously).
	deadline := time.Now().Add(10 * time.Second)
	for {
		fr.mu.Lock()
		unloads := slices.Clone(fr.unloads)
		_, aLoaded := fr.loaded["a:1"]
		fr.mu.Unlock()
		if slices.Contains(unloads, "a:1") && !aLoaded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a:1 not unloaded after swap: unloads %v", unloads)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestApplyAtomicUnderLoad checks every response comes from exactly one
// state (never a mix) while states are swapped.
func TestApplyAtomicUnderLoad(t *testing.T) {
	ctx := context.Background()
	o := newCountingOrigin(t, okHandler("no-store"))
	fr := newFakeRunner()
	for _, name := range []string{"a", "b"} {
		fr.handlers[name] = func(inv sandbox.Invocation) sandbox.Result {
			inv.Response.Header.Set("X-Fn", name)
			return cont(inv)
		}
	}
	n := startNode(t, fr, nil)
	mk := func(rev int64, fn string) *edgelabv1.Snapshot {
		return snapshot(rev, o.URL, "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{assoc(evVRes, fn)}})
	}
	if err := n.Apply(ctx, mk(1, "a"), nil); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var bad atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				r := do(t, n, "GET", "/x", nil, "")
				fn := r.header.Get("X-Fn")
				if r.status != 200 || (fn != "a" && fn != "b") {
					bad.Add(1)
				}
			}
		}()
	}
	for i := range 20 {
		fn := "a"
		if i%2 == 0 {
			fn = "b"
		}
		if err := n.Apply(ctx, mk(int64(i+2), fn), nil); err != nil {
			t.Error(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d responses failed during swaps", bad.Load())
	}
}

// TestApplyChangesCompilesOnlyWhatChanged: a revision recompiles the
// distributions it changed and those using a version it changed, shares
// the others with the previous state, and loads only changed versions.
func TestApplyChangesCompilesOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	fr := newFakeRunner()
	n := startNode(t, fr, nil)
	mkDist := func(id, domain string, fns ...desired.Key) *edgelabv1.Distribution {
		b := &edgelabv1.Behavior{Path: "default", Origin: "o"}
		for _, k := range fns {
			b.Functions = append(b.Functions, &edgelabv1.Association{EventType: evVR, Function: k.Name, Version: k.Version})
		}
		return &edgelabv1.Distribution{Id: id, Domains: []string{domain},
			Origins: []*edgelabv1.Origin{{Id: "o", Url: "http://127.0.0.1:1"}}, Behaviors: []*edgelabv1.Behavior{b}}
	}
	mkFn := func(k desired.Key, sha string) *edgelabv1.FunctionVersion {
		return &edgelabv1.FunctionVersion{Name: k.Name, Version: k.Version, Sha256: sha}
	}
	a1, b1, c1 := desired.Key{Name: "a", Version: 1}, desired.Key{Name: "b", Version: 1}, desired.Key{Name: "c", Version: 1}
	ds := desired.New()
	for _, d := range []*edgelabv1.Distribution{mkDist("x", "x.test", a1), mkDist("y", "y.test", b1), mkDist("z", "z.test")} {
		ds.PutDistribution(d)
	}
	ds.PutFunction(mkFn(a1, "a"))
	ds.PutFunction(mkFn(b1, "b"))
	ds.SetRevision(1)
	if err := n.ApplyChanges(ctx, ds, desired.All(ds), nil); err != nil {
		t.Fatal(err)
	}
	next := func(rev int64, put []*edgelabv1.Distribution, fns []*edgelabv1.FunctionVersion, dels []desired.Key) desired.Changed {
		var c desired.Changed
		for _, d := range put {
			ds.PutDistribution(d)
			c.AddDistribution(d.GetId())
		}
		for _, f := range fns {
			ds.PutFunction(f)
			c.AddFunction(desired.KeyOf(f))
		}
		for _, k := range dels {
			ds.DeleteFunction(k)
			c.AddFunction(k)
		}
		ds.SetRevision(rev)
		return c
	}
	steps := []struct {
		name      string
		changed   func() desired.Changed
		wantErr   string
		recompile []string // distributions compiled anew; the others are shared
		wantLoads int
	}{
		{"new version of a used function", func() desired.Changed { return next(2, nil, []*edgelabv1.FunctionVersion{mkFn(a1, "a2")}, nil) },
			"", []string{"x"}, 1},
		{"a distribution moves to a new function", func() desired.Changed {
			return next(3, []*edgelabv1.Distribution{mkDist("y", "y.test", c1)}, []*edgelabv1.FunctionVersion{mkFn(c1, "c")}, []desired.Key{b1})
		}, "", []string{"y"}, 1},
		{"a domain moves between distributions", func() desired.Changed {
			return next(4, []*edgelabv1.Distribution{mkDist("z", "y.test"), mkDist("y", "w.test", c1)}, nil, nil)
		}, "", []string{"y", "z"}, 0},
		{"deleting a version still in use", func() desired.Changed { return next(5, nil, nil, []desired.Key{a1}) },
			`distribution "x"`, nil, 0},
		{"taking a served domain", func() desired.Changed {
			ds.PutFunction(mkFn(a1, "a2"))
			return next(6, []*edgelabv1.Distribution{mkDist("v", "x.test")}, nil, nil)
		}, `domain "x.test" already served by "x"`, nil, 0},
	}
	for _, st := range steps {
		before := n.st.Load()
		loads := fr.loads
		err := n.ApplyChanges(ctx, ds, st.changed(), nil)
		if st.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), st.wantErr) {
				t.Fatalf("%s: err %v, want %q", st.name, err, st.wantErr)
			}
			if n.st.Load() != before {
				t.Fatalf("%s: a refused revision replaced the state", st.name)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		after := n.st.Load()
		for id, d := range after.dists {
			if shared := before.dists[id] == d; shared == slices.Contains(st.recompile, id) {
				t.Fatalf("%s: distribution %s shared=%v, want recompiled only %v", st.name, id, shared, st.recompile)
			}
		}
		if fr.loads-loads != st.wantLoads {
			t.Fatalf("%s: %d loads, want %d", st.name, fr.loads-loads, st.wantLoads)
		}
	}
	if got := n.st.Load(); got.distFor("y.test").id != "z" || got.distFor("w.test").id != "y" || got.distFor("x.test").id != "x" {
		t.Fatalf("routes: y.test->%s w.test->%s", got.distFor("y.test").id, got.distFor("w.test").id)
	}
	// A whole snapshot equal to what is served changes nothing.
	if err := n.Apply(ctx, n.served.Snapshot(), nil); err != nil {
		t.Fatal(err)
	}
	if d := n.st.Load().dists["x"]; d != n.st.Load().byDomain["x.test"] {
		t.Fatal("snapshot re-apply broke routing")
	}
}
