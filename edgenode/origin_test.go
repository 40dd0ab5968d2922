package edgenode

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/edgelab/edgelab/origin"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

func startOrigin(t testing.TB, id string) *origin.Server {
	t.Helper()
	s, err := origin.New(origin.Config{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = s.Close()
	})
	return s
}

// deadURL is an address nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func TestOriginGroupFailover(t *testing.T) {
	tests := []struct {
		name       string
		primary    func(t *testing.T, s *origin.Server) string // returns primary URL
		method     string
		path       string
		wantStatus int
		wantOrigin string
		wantXCache string
	}{
		{"healthy primary answers", func(t *testing.T, s *origin.Server) string { return s.URL() }, "GET", "/gen/a", 200, "primary", "Miss"},
		{"503 fails over", func(t *testing.T, s *origin.Server) string {
			mustFault(t, s, origin.Fault{ErrorRate: 1, Status: 503})
			return s.URL()
		}, "GET", "/gen/a", 200, "secondary", "Miss"},
		{"connection refused fails over", func(t *testing.T, s *origin.Server) string { return deadURL(t) }, "GET", "/gen/a", 200, "secondary", "Miss"},
		{"outage (reset) fails over", func(t *testing.T, s *origin.Server) string {
			mustFault(t, s, origin.Fault{Outage: true})
			return s.URL()
		}, "GET", "/gen/a", 200, "secondary", "Miss"},
		{"timeout fails over", func(t *testing.T, s *origin.Server) string {
			mustFault(t, s, origin.Fault{Latency: origin.Duration(5 * time.Second)})
			return s.URL()
		}, "GET", "/gen/a", 200, "secondary", "Miss"},
		{"OPTIONS fails over", func(t *testing.T, s *origin.Server) string {
			mustFault(t, s, origin.Fault{ErrorRate: 1, Status: 502})
			return s.URL()
		}, "OPTIONS", "/echo", 200, "secondary", "Miss"},
		{"POST does not fail over", func(t *testing.T, s *origin.Server) string {
			mustFault(t, s, origin.Fault{ErrorRate: 1, Status: 503})
			return s.URL()
		}, "POST", "/echo", 503, "primary", "Error"},
		{"404 is not a failover status", func(t *testing.T, s *origin.Server) string { return s.URL() }, "GET", "/status/404", 404, "primary", "Error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := startOrigin(t, "primary")
			s := startOrigin(t, "secondary")
			pURL := tc.primary(t, p)
			n := startNode(t, newFakeRunner(), nil)
			snap := snapshot(1, pURL, s.URL(), &edgelabv1.Behavior{Origin: "g"})
			snap.Distributions[0].Origins[0].ReadTimeout = durationpb.New(300 * time.Millisecond)
			if err := n.Apply(context.Background(), snap, nil); err != nil {
				t.Fatal(err)
			}
			r := do(t, n, tc.method, tc.path, nil, "")
			if r.status != tc.wantStatus || r.header.Get("X-Origin-Id") != tc.wantOrigin || xcache(r) != tc.wantXCache {
				t.Fatalf("got %d from %q (%q), want %d from %q (%q)", r.status, r.header.Get("X-Origin-Id"), xcache(r), tc.wantStatus, tc.wantOrigin, tc.wantXCache)
			}
		})
	}
}

func mustFault(t *testing.T, s *origin.Server, f origin.Fault) {
	t.Helper()
	if err := s.SetFault(f); err != nil {
		t.Fatal(err)
	}
}

func TestMalformedRequests(t *testing.T) {
	o := startOrigin(t, "o")
	n := startNode(t, newFakeRunner(), func(c *Config) { c.ReadHeaderTimeout = 300 * time.Millisecond })
	snap := snapshot(1, o.URL(), "", &edgelabv1.Behavior{})
	snap.Distributions[0].Domains = []string{"demo.test"}
	snap.Distributions[0].Behaviors = append([]*edgelabv1.Behavior{{Path: "/ro/*", Origin: "o1", AllowedMethods: []string{"GET", "HEAD"}}}, snap.Distributions[0].Behaviors...)
	if err := n.Apply(context.Background(), snap, nil); err != nil {
		t.Fatal(err)
	}
	host := map[string]string{"Host": "demo.test"}
	big := func(n int) map[string]string {
		return map[string]string{"Host": "demo.test", "X-Big": strings.Repeat("b", n)}
	}
	tests := []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		status int
		xcache string
	}{
		{"ok", "GET", "/gen/ok", host, 200, "Miss"},
		{"URI at limit", "GET", "/gen/" + strings.Repeat("u", 8200), host, 414, "Error"},
		{"query makes URI too long", "GET", "/gen/a?q=" + strings.Repeat("q", 8200), host, 414, "Error"},
		{"headers over 20480", "GET", "/gen/a", big(21000), 494, "Error"},
		{"headers far over limit", "GET", "/gen/a", big(100 << 10), 431, ""},
		{"unknown method", "FOO", "/gen/a", host, 501, "Error"},
		{"TRACE", "TRACE", "/gen/a", host, 501, "Error"},
		{"method not allowed by behavior", "POST", "/ro/x", host, 403, "Error"},
		{"unknown host", "GET", "/gen/a", map[string]string{"Host": "other.test"}, 403, "Error"},
		{"health", "GET", HealthPath, host, 200, "Miss"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, n, tc.method, tc.path, tc.hdr, "")
			if r.status != tc.status || xcache(r) != tc.xcache {
				t.Fatalf("got %d %q, want %d %q", r.status, xcache(r), tc.status, tc.xcache)
			}
			// The node still serves normally afterwards.
			if r := do(t, n, "GET", "/gen/after", host, ""); r.status != 200 {
				t.Fatalf("follow-up request: %d", r.status)
			}
		})
	}
}

func TestSlowClientHeaderTimeout(t *testing.T) {
	n := startNode(t, newFakeRunner(), func(c *Config) { c.ReadHeaderTimeout = 200 * time.Millisecond })
	c, err := net.Dial("tcp", n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = bufio.NewReader(c).ReadString('\n')
	if err == nil {
		// net/http may answer 408 before closing; either way the connection ends.
		_, err = c.Read(make([]byte, 1024))
	}
	if err == nil {
		t.Fatal("slow client connection stayed open")
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("slow client held the connection for %v", el)
	}
}

func TestDeadAndResettingOrigin(t *testing.T) {
	o := startOrigin(t, "o")
	mustFault(t, o, origin.Fault{Path: "/reset/", ResetBody: true})
	mustFault(t, o, origin.Fault{Path: "/objects/", ResetBody: true})
	tests := []struct {
		name, url, path string
		status          int
		xcache          string
	}{
		{"dead origin", deadURL(t), "/x", 502, "Error"},
		{"reset mid-body", o.URL(), "/objects/64k", 502, "Error"},
		{"healthy", o.URL(), "/gen/x", 200, "Miss"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, newFakeRunner(), nil)
			if err := n.Apply(context.Background(), snapshot(1, tc.url, "", &edgelabv1.Behavior{}), nil); err != nil {
				t.Fatal(err)
			}
			r := do(t, n, "GET", tc.path, nil, "")
			if r.status != tc.status || xcache(r) != tc.xcache {
				t.Fatalf("got %d %q, want %d %q", r.status, xcache(r), tc.status, tc.xcache)
			}
			if tc.status == 502 && !strings.Contains(r.body, r.header.Get("X-Edgelab-Request-Id")) {
				t.Fatalf("error page without request id: %q", r.body)
			}
			// A truncated object must not be cached.
			if r2 := do(t, n, "GET", tc.path, nil, ""); tc.status == 502 && r2.status != 502 {
				t.Fatalf("second request %d", r2.status)
			}
			if r := do(t, n, "GET", HealthPath, nil, ""); r.status != http.StatusOK {
				t.Fatalf("node unhealthy after: %d", r.status)
			}
		})
	}
}
