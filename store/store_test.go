package store_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/store"
	"github.com/edgelab/edgelab/store/embedded"
)

func startEtcd(t *testing.T) (*embedded.Etcd, string) {
	t.Helper()
	dir := t.TempDir()
	e, err := embedded.Start(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e, dir
}

func newClient(t *testing.T, endpoints []string) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func src(body string) []*edgelabv1.SourceFile {
	return []*edgelabv1.SourceFile{{Name: "f.go", Content: []byte(body)}}
}

func TestSHA256OrderIndependent(t *testing.T) {
	a := []*edgelabv1.SourceFile{{Name: "a.go", Content: []byte("x")}, {Name: "b.go", Content: []byte("y")}}
	b := []*edgelabv1.SourceFile{a[1], a[0]}
	if store.SHA256(a) != store.SHA256(b) {
		t.Fatal("hash depends on order")
	}
	// name/content boundaries matter: ("ab","") != ("a","b")
	c := []*edgelabv1.SourceFile{{Name: "ab", Content: nil}}
	d := []*edgelabv1.SourceFile{{Name: "a", Content: []byte("b")}}
	if store.SHA256(c) == store.SHA256(d) {
		t.Fatal("hash ambiguous at name/content boundary")
	}
}

func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{{"auth", true}, {"a-b_1", true}, {"", false}, {"a/b", false}, {"-x", false}, {"../x", false}, {string(make([]byte, 65)), false}} {
		err := store.CheckName("function", tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("CheckName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, store.ErrInvalidName) {
			t.Errorf("CheckName(%q) error %v is not ErrInvalidName", tc.name, err)
		}
	}
}

func TestFunctionLifecycle(t *testing.T) {
	e, _ := startEtcd(t)
	s := store.New(newClient(t, e.Endpoints()), store.NewKeys(""))
	ctx := context.Background()

	if _, err := s.CreateFunction(ctx, &edgelabv1.Function{Name: "auth", Draft: src("v1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateFunction(ctx, &edgelabv1.Function{Name: "auth", Draft: src("v1")}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
	v1, _, err := s.PublishFunction(ctx, "auth", "")
	if err != nil || v1.GetVersion() != 1 || v1.GetSha256() != store.SHA256(src("v1")) {
		t.Fatalf("publish 1: %v %v", v1, err)
	}
	if _, err := s.UpdateFunction(ctx, "auth", func(f *edgelabv1.Function) error { f.Draft = src("v2"); return nil }); err != nil {
		t.Fatal(err)
	}
	v2, _, err := s.PublishFunction(ctx, "auth", "second")
	if err != nil || v2.GetVersion() != 2 || v2.GetConfig().GetDescription() != "second" {
		t.Fatalf("publish 2: %v %v", v2, err)
	}
	got, err := s.GetVersion(ctx, "auth", 1)
	if err != nil || string(got.GetFiles()[0].GetContent()) != "v1" {
		t.Fatalf("version 1 changed: %v %v", got, err)
	}
	vs, err := s.ListVersions(ctx, "auth")
	if err != nil || len(vs) != 2 || vs[0] != 1 || vs[1] != 2 {
		t.Fatalf("ListVersions = %v, %v", vs, err)
	}
	if _, err := s.GetVersion(ctx, "auth", 3); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetVersion 3: %v", err)
	}

	// A distribution referencing version 1 blocks its delete.
	d := &edgelabv1.Distribution{Id: "demo", Behaviors: []*edgelabv1.Behavior{{Path: "default", Origin: "web",
		Functions: []*edgelabv1.Association{{EventType: edgelabv1.EventType_EVENT_TYPE_VIEWER_REQUEST, Function: "auth", Version: 1}}}}}
	if _, _, created, err := s.ApplyDistribution(ctx, d); err != nil || !created {
		t.Fatalf("apply: created=%v %v", created, err)
	}
	if _, _, created, err := s.ApplyDistribution(ctx, d); err != nil || created {
		t.Fatalf("re-apply: created=%v %v", created, err)
	}
	_, err = s.DeleteVersion(ctx, "auth", 1)
	var ref *store.ReferencedError
	if !errors.As(err, &ref) || ref.Distribution != "demo" || ref.Behavior != "default" || ref.EventType != "viewer-request" {
		t.Fatalf("delete referenced: %v", err)
	}
	if _, err := s.DeleteFunction(ctx, "auth"); !errors.Is(err, store.ErrReferenced) {
		t.Fatalf("delete referenced function: %v", err)
	}
	if _, err := s.DeleteVersion(ctx, "auth", 2); err != nil {
		t.Fatalf("delete unreferenced: %v", err)
	}
	if _, err := s.DeleteVersion(ctx, "auth", 2); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	// Applying a reference to the deleted version fails inside the txn.
	d.Behaviors[0].Functions[0].Version = 2
	_, _, _, err = s.ApplyDistribution(ctx, d)
	var mv *store.MissingVersionError
	if !errors.As(err, &mv) || mv.Version != 2 {
		t.Fatalf("apply missing version: %v", err)
	}
	if _, err := s.CreateInvalidation(ctx, &edgelabv1.Invalidation{DistributionId: "demo", Paths: []string{"/*"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateInvalidation(ctx, &edgelabv1.Invalidation{DistributionId: "nope", Paths: []string{"/*"}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("invalidation for unknown distribution: %v", err)
	}
	if _, err := s.DeleteDistribution(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	if invs, err := s.ListInvalidations(ctx, "demo"); err != nil || len(invs) != 0 {
		t.Fatalf("invalidations left after delete: %v %v", invs, err)
	}
	if _, err := s.DeleteFunction(ctx, "auth"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetFunction(ctx, "auth"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("function after delete: %v", err)
	}
	if vs, _ := s.ListVersions(ctx, "auth"); len(vs) != 0 {
		t.Fatalf("versions after delete: %v", vs)
	}
}

// Concurrent publishes from two clients (as two control planes would) give
// 1..N with no gap or duplicate.
func TestConcurrentPublish(t *testing.T) {
	e, _ := startEtcd(t)
	keys := store.NewKeys("/t/")
	stores := []*store.Store{store.New(newClient(t, e.Endpoints()), keys), store.New(newClient(t, e.Endpoints()), keys)}
	ctx := context.Background()
	if _, err := stores[0].CreateFunction(ctx, &edgelabv1.Function{Name: "f", Draft: src("x")}); err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 8, 5
	var mu sync.Mutex
	var got []int64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for range each {
				v, _, err := stores[g%2].PublishFunction(ctx, "f", "")
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				got = append(got, v.GetVersion())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	for i, v := range got {
		if v != int64(i+1) {
			t.Fatalf("versions %v: gap or duplicate at %d", got, i)
		}
	}
	vs, _ := stores[1].ListVersions(ctx, "f")
	if len(vs) != goroutines*each {
		t.Fatalf("stored %d versions, want %d", len(vs), goroutines*each)
	}
}

// Data survives a restart of the embedded member on the same directory.
func TestEmbeddedRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	e, err := embedded.Start(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: e.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.New(c, store.NewKeys("")).CreateFunction(ctx, &edgelabv1.Function{Name: "keep", Draft: src("x")}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	e.Close()

	e2, err := embedded.Start(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	s := store.New(newClient(t, e2.Endpoints()), store.NewKeys(""))
	if fn, _, err := s.GetFunction(ctx, "keep"); err != nil || fn.GetName() != "keep" {
		t.Fatalf("after restart: %v %v", fn, err)
	}
}

func TestDomainsAreUniqueAcrossDistributions(t *testing.T) {
	e, _ := startEtcd(t)
	s := store.New(newClient(t, e.Endpoints()), store.NewKeys(""))
	ctx := context.Background()
	mk := func(id string, domains ...string) *edgelabv1.Distribution {
		return &edgelabv1.Distribution{Id: id, Domains: domains}
	}
	if _, _, _, err := s.ApplyDistribution(ctx, mk("a", "a.test", "*")); err != nil {
		t.Fatal(err)
	}
	// Re-applying the same distribution with its own domains is fine.
	if _, _, _, err := s.ApplyDistribution(ctx, mk("a", "a.test", "*")); err != nil {
		t.Fatalf("re-apply: %v", err)
	}
	for _, tc := range []struct {
		domains []string
		want    string
	}{
		{[]string{"b.test", "*"}, `domain "*" is already served by distribution "a"`},
		{[]string{"A.TEST"}, `domain "a.test" is already served by distribution "a"`},
	} {
		_, _, _, err := s.ApplyDistribution(ctx, mk("b", tc.domains...))
		var dc *store.DomainConflictError
		if !errors.As(err, &dc) || !errors.Is(err, store.ErrExists) || err.Error() != tc.want {
			t.Fatalf("apply b %v: err %v, want %q (ErrExists)", tc.domains, err, tc.want)
		}
	}
	if _, _, err := s.GetDistribution(ctx, "b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("b was stored after a conflict: %v", err)
	}
	if _, _, _, err := s.ApplyDistribution(ctx, mk("b", "b.test")); err != nil {
		t.Fatalf("distinct domain: %v", err)
	}
}
