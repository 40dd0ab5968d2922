package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgelab/edgelab/chaos/history"
)

func edgeServer(t *testing.T) (*httptest.Server, *sync.Map) {
	t.Helper()
	seen := &sync.Map{} // "host region path" -> count
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Host + " " + r.Header.Get(history.HeaderViewerRegion) + " " + r.URL.Path
		v, _ := seen.LoadOrStore(key, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
		w.Header().Set(history.HeaderCache, "Miss from edgelab")
		w.Header().Set(history.HeaderNode, "edge-1")
		w.Header().Set(history.HeaderPop, "IAD")
		w.Header().Set(history.HeaderFunctions, "viewer-request=auth:3")
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusBadGateway)
		}
		_, _ = w.Write([]byte("hello"))
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

func TestNewRefuses(t *testing.T) {
	ok := Config{URL: "http://127.0.0.1:1", Rate: 10, MaxRequests: 10, Duration: time.Second}
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"no count bound", func(c *Config) { c.MaxRequests = 0 }},
		{"no time bound", func(c *Config) { c.Duration = 0 }},
		{"negative count", func(c *Config) { c.MaxRequests = -1 }},
		{"zero rate", func(c *Config) { c.Rate = 0 }},
		{"too many", func(c *Config) { c.MaxRequests = MaxRequestsLimit + 1 }},
		{"too long", func(c *Config) { c.Duration = MaxDurationLimit + time.Second }},
		{"remote host", func(c *Config) { c.URL = "http://example.com" }},
		{"remote ip", func(c *Config) { c.URL = "http://10.1.2.3:80" }},
		{"bad scheme", func(c *Config) { c.URL = "file:///etc/passwd" }},
		{"no host", func(c *Config) { c.URL = "http://" }},
		{"user info", func(c *Config) { c.URL = "http://u:p@127.0.0.1:1" }},
		{"query in base", func(c *Config) { c.URL = "http://127.0.0.1:1/?x=1" }},
		{"relative path", func(c *Config) { c.Paths = []string{"api"} }},
		{"scheme-relative path", func(c *Config) { c.Paths = []string{"//evil.example/x"} }},
		{"CRLF in path", func(c *Config) { c.Paths = []string{"/a\r\nHost: x"} }},
		{"unknown method", func(c *Config) { c.Methods = []string{"GET", "CONNECT"} }},
		{"method with a space", func(c *Config) { c.Methods = []string{"GET /x HTTP/1.1\r\n"} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mod(&c)
			if _, err := New(c); err == nil {
				t.Fatalf("New(%+v) succeeded", c)
			}
		})
	}
	if _, err := New(ok); err != nil {
		t.Fatalf("New(valid) = %v", err)
	}
	remote := ok
	remote.URL, remote.AllowRemote = "http://example.com", true
	if _, err := New(remote); err != nil {
		t.Fatalf("New(remote allowed) = %v", err)
	}
}

func TestRunCountBound(t *testing.T) {
	srv, seen := edgeServer(t)
	g, err := New(Config{URL: srv.URL, Host: "demo.edgelab.test", Rate: 1000, MaxRequests: 12, Duration: 30 * time.Second,
		Paths: []string{"/a", "/fail"}, ViewerRegions: []string{"us-east-1", "eu-west-1", "ap-south-1"}})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := g.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 12 {
		t.Fatalf("got %d records, want 12", len(recs))
	}
	for _, r := range recs {
		if r.Node != "edge-1" || r.Pop != "IAD" || len(r.Functions) != 1 || r.End.Before(r.Start) {
			t.Fatalf("bad record %+v", r)
		}
		if (r.Path == "/fail") != (r.Status == http.StatusBadGateway) {
			t.Fatalf("status %d for %s", r.Status, r.Path)
		}
	}
	// 2 paths x 3 regions, 12 requests: every combination twice, Host preserved.
	n := 0
	seen.Range(func(k, v any) bool {
		n++
		if !strings.HasPrefix(k.(string), "demo.edgelab.test ") || v.(*atomic.Int64).Load() != 2 {
			t.Errorf("combination %q seen %d times", k, v.(*atomic.Int64).Load())
		}
		return true
	})
	if n != 6 {
		t.Fatalf("%d combinations, want 6", n)
	}
}

func TestRunTimeBound(t *testing.T) {
	srv, _ := edgeServer(t)
	g, err := New(Config{URL: srv.URL, Rate: 20, MaxRequests: MaxRequestsLimit, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []history.Request, 1)
	go func() {
		recs, _ := g.Run(context.Background())
		done <- recs
	}()
	select {
	case recs := <-done:
		// 20/s for 0.3s with a burst of 1: a handful, never the count bound.
		if len(recs) == 0 || len(recs) > 20 {
			t.Fatalf("got %d records in a 300ms run at 20/s", len(recs))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop by itself")
	}
}

func TestRunRecordsTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	g, err := New(Config{URL: url, Rate: 1000, MaxRequests: 3, Duration: 10 * time.Second, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := g.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	for _, r := range recs {
		if r.Err == "" || r.Status != 0 || !r.Failed() {
			t.Fatalf("record without transport error: %+v", r)
		}
	}
}

func TestRunDoesNotFollowRedirects(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/x", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	g, err := New(Config{URL: srv.URL, Rate: 1000, MaxRequests: 5, Duration: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := g.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 || recs[0].Status != http.StatusFound {
		t.Fatalf("records %+v", recs)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("redirect target got %d requests", n)
	}
}

func TestRunCanceled(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	g, err := New(Config{URL: srv.URL, Rate: 100, MaxRequests: 1000, Duration: time.Minute, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := g.Run(ctx)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("canceled run returned nil error")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("canceled run did not return")
	}
}

func TestMethodsAndUniqueIDs(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{} // id -> method + body
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 64)
		n, _ := r.Body.Read(b)
		mu.Lock()
		got[r.Header.Get(history.HeaderChaosID)] = r.Method + " " + string(b[:n])
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	g, err := New(Config{URL: srv.URL, Rate: 1000, MaxRequests: 6, Duration: 5 * time.Second,
		Methods: []string{"GET", "POST", "PUT"}, IDPrefix: "run7"})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := g.Run(context.Background())
	if err != nil || len(recs) != 6 {
		t.Fatalf("Run: %d records, %v", len(recs), err)
	}
	ids := map[string]bool{}
	for _, r := range recs {
		if ids[r.ID] || !strings.HasPrefix(r.ID, "run7-") {
			t.Fatalf("id %q repeated or unprefixed", r.ID)
		}
		ids[r.ID] = true
		want := r.Method + " "
		if r.Method != "GET" {
			want += r.ID // the body names the id
		}
		if got[r.ID] != want {
			t.Errorf("server saw %q for %s, want %q", got[r.ID], r.ID, want)
		}
	}
	if got["run7-1"][:4] != "POST" || got["run7-2"][:3] != "PUT" {
		t.Fatalf("rotation wrong: %v", got)
	}
}
