package edgenode

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
