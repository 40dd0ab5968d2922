package edgenode

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

func TestCacheSemanticsThroughNode(t *testing.T) {
	type req struct {
		method, path string
		status       int
		xcache       string
	}
	tests := []struct {
		name   string
		minTTL time.Duration
		reqs   []req
		hits   int64
	}{
		{"no-store with min 0 not cached", 0, []req{{"GET", "/a?cc=no-store", 200, "Miss"}, {"GET", "/a?cc=no-store", 200, "Miss"}}, 2},
		{"no-store with min > 0 cached", time.Minute, []req{{"GET", "/a?cc=no-store", 200, "Miss"}, {"GET", "/a?cc=no-store", 200, "Hit"}}, 1},
		{"private with min 0 not cached", 0, []req{{"GET", "/a?cc=private", 200, "Miss"}, {"GET", "/a?cc=private", 200, "Miss"}}, 2},
		{"max-age cached", 0, []req{{"GET", "/a?cc=max-age%3D60", 200, "Miss"}, {"GET", "/a?cc=max-age%3D60", 200, "Hit"}}, 1},
		{"POST not cached", 0, []req{{"POST", "/a", 200, "Miss"}, {"POST", "/a", 200, "Miss"}}, 2},
		{"PUT not cached", 0, []req{{"PUT", "/a", 200, "Miss"}, {"GET", "/a", 200, "Miss"}}, 2},
		{"HEAD served from GET's object", 0, []req{{"GET", "/a", 200, "Miss"}, {"HEAD", "/a", 200, "Hit"}}, 1},
		{"GET served from HEAD's fetch", 0, []req{{"HEAD", "/a", 200, "Miss"}, {"GET", "/a", 200, "Hit"}}, 1},
		{"404 cached for the error TTL", 0, []req{{"GET", "/status/404", 404, "Error"}, {"GET", "/status/404", 404, "Error"}}, 1},
		{"500 cached for the error TTL", 0, []req{{"GET", "/status/500", 500, "Error"}, {"GET", "/status/500", 500, "Error"}}, 1},
		{"query not in key", 0, []req{{"GET", "/a?x=1", 200, "Miss"}, {"GET", "/a?x=2", 200, "Hit"}}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newCountingOrigin(t, okHandler(""))
			n := startNode(t, newFakeRunner(), nil)
			b := &edgelabv1.Behavior{Cache: &edgelabv1.CachePolicy{Set: true, MinTtl: durationpb.New(tc.minTTL),
				DefaultTtl: durationpb.New(time.Hour), MaxTtl: durationpb.New(24 * time.Hour)}}
			if err := n.Apply(context.Background(), snapshot(1, o.URL, "", b), nil); err != nil {
				t.Fatal(err)
			}
			for i, r := range tc.reqs {
				got := do(t, n, r.method, r.path, nil, "")
				if got.status != r.status || xcache(got) != r.xcache {
					t.Fatalf("req %d %s %s: %d %q, want %d %q", i, r.method, r.path, got.status, xcache(got), r.status, r.xcache)
				}
				if r.method == "HEAD" && got.body != "" {
					t.Errorf("HEAD returned a body")
				}
			}
			if h := o.hits.Load(); h != tc.hits {
				t.Fatalf("origin hits %d, want %d", h, tc.hits)
			}
		})
	}
}

func TestCacheKeyPolicy(t *testing.T) {
	o := newCountingOrigin(t, okHandler("max-age=60"))
	n := startNode(t, newFakeRunner(), nil)
	b := &edgelabv1.Behavior{Cache: &edgelabv1.CachePolicy{QueryStrings: []string{"lang"}, Headers: []string{"x-device"}}}
	if err := n.Apply(context.Background(), snapshot(1, o.URL, "", b), nil); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		path, device, xcache string
	}{
		{"/p?lang=en&z=1", "m", "Miss"},
		{"/p?z=2&lang=en", "m", "Hit"},
		{"/p?lang=fr", "m", "Miss"},
		{"/p?lang=en", "d", "Miss"},
		{"/p?lang=en", "m", "Hit"},
	}
	for i, s := range steps {
		r := do(t, n, "GET", s.path, map[string]string{"X-Device": s.device}, "")
		if xcache(r) != s.xcache {
			t.Fatalf("step %d %s: X-Cache %q, want %q", i, s.path, xcache(r), s.xcache)
		}
	}
}

func TestStaleServedOnOriginFailure(t *testing.T) {
	var fail atomic.Int32 // 0 ok, 1 500, 2 connection reset
	o := newCountingOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		switch fail.Load() {
		case 1:
			http.Error(w, "boom", 500)
		case 2:
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			c.Close()
		default:
			w.Header().Set("Cache-Control", "max-age=10")
			fmt.Fprint(w, "fresh-object")
		}
	})
	n := startNode(t, newFakeRunner(), nil)
	now := time.Now()
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	n.now = func() time.Time { return time.Unix(0, clock.Load()) }
	if err := n.Apply(context.Background(), snapshot(1, o.URL, "", &edgelabv1.Behavior{}), nil); err != nil {
		t.Fatal(err)
	}
	if r := do(t, n, "GET", "/obj", nil, ""); xcache(r) != "Miss" {
		t.Fatalf("first: %q", xcache(r))
	}
	clock.Add(int64(time.Minute)) // expire
	for _, mode := range []int32{1, 2} {
		fail.Store(mode)
		r := do(t, n, "GET", "/obj", nil, "")
		if r.status != 200 || r.body != "fresh-object" || xcache(r) != "Hit" || r.header.Get("Warning") == "" {
			t.Fatalf("mode %d: got %d %q %q warning=%q, want stale object", mode, r.status, r.body, xcache(r), r.header.Get("Warning"))
		}
	}
	// A path never cached gets the error.
	fail.Store(2)
	if r := do(t, n, "GET", "/other", nil, ""); r.status != 502 || xcache(r) != "Error" {
		t.Fatalf("uncached path on dead origin: %d %q", r.status, xcache(r))
	}
	fail.Store(0)
	if r := do(t, n, "GET", "/obj", nil, ""); xcache(r) != "Miss" || r.header.Get("Warning") != "" {
		t.Fatalf("after heal: %q", xcache(r))
	}
}

func TestSingleflightCollapsesMisses(t *testing.T) {
	const N = 20
	release := make(chan struct{})
	o := newCountingOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "shared")
	})
	n := startNode(t, newFakeRunner(), nil)
	var waiting atomic.Int32
	n.testHookMiss = func() { waiting.Add(1) }
	if err := n.Apply(context.Background(), snapshot(1, o.URL, "", &edgelabv1.Behavior{}), nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]result, N)
	for i := range N {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = do(t, n, "GET", "/hot", nil, "")
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for waiting.Load() < N || o.hits.Load() < 1 {
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("only %d misses waiting, %d origin hits", waiting.Load(), o.hits.Load())
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if h := o.hits.Load(); h != 1 {
		t.Fatalf("origin hits %d, want 1", h)
	}
	for i, r := range results {
		if r.status != 200 || r.body != "shared" {
			t.Fatalf("request %d: %d %q", i, r.status, r.body)
		}
	}
}

func TestInvalidation(t *testing.T) {
	o := newCountingOrigin(t, okHandler("max-age=600"))
	n := startNode(t, newFakeRunner(), nil)
	snap := snapshot(1, o.URL, "", &edgelabv1.Behavior{})
	if err := n.Apply(context.Background(), snap, nil); err != nil {
		t.Fatal(err)
	}
	paths := []string{"/img/a.png", "/img/b.png", "/css/a.css"}
	for _, p := range paths {
		do(t, n, "GET", p, nil, "")
	}
	inv := &edgelabv1.Invalidation{Id: "i1", DistributionId: "d", Paths: []string{"/img/*"}}
	if err := n.Apply(context.Background(), nil, []*edgelabv1.Invalidation{inv}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"/img/a.png": "Miss", "/img/b.png": "Miss", "/css/a.css": "Hit"}
	for _, p := range paths {
		if got := xcache(do(t, n, "GET", p, nil, "")); got != want[p] {
			t.Errorf("%s after invalidation: %q, want %q", p, got, want[p])
		}
	}
	// The same invalidation id is applied once: objects fetched after it stay.
	if err := n.Apply(context.Background(), snap, []*edgelabv1.Invalidation{inv}); err != nil {
		t.Fatal(err)
	}
	if got := xcache(do(t, n, "GET", "/img/a.png", nil, "")); got != "Hit" {
		t.Errorf("re-sent invalidation purged again: %q", got)
	}
}

func TestRevalidationRefreshHit(t *testing.T) {
	var notModified atomic.Int64
	o := newCountingOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Cache-Control", "max-age=10")
		if r.Header.Get("If-None-Match") == `"v1"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprint(w, "object-v1")
	})
	n := startNode(t, newFakeRunner(), nil)
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	n.now = func() time.Time { return time.Unix(0, clock.Load()) }
	if err := n.Apply(context.Background(), snapshot(1, o.URL, "", &edgelabv1.Behavior{}), nil); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance time.Duration
		hdr     map[string]string
		xcache  string
	}{
		{0, map[string]string{"If-None-Match": `"v1"`}, "Miss"}, // viewer conditional not forwarded: full object cached
		{time.Second, nil, "Hit"},
		{time.Minute, nil, "RefreshHit"},
		{time.Second, nil, "Hit"},
	}
	for i, s := range steps {
		clock.Add(int64(s.advance))
		r := do(t, n, "GET", "/obj", s.hdr, "")
		if r.status != 200 || r.body != "object-v1" || xcache(r) != s.xcache {
			t.Fatalf("step %d: %d %q %q, want 200 object-v1 %q", i, r.status, r.body, xcache(r), s.xcache)
		}
	}
	if notModified.Load() != 1 || o.hits.Load() != 2 {
		t.Fatalf("origin: %d hits, %d not-modified; want 2, 1", o.hits.Load(), notModified.Load())
	}
}
