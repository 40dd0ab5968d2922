package edgenode

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// countedViewerNode is a node whose origin counts the requests it saw in
// full (their body read to the end without error).
func countedViewerNode(t testing.TB, mod func(*Config)) (*Node, *atomic.Int64) {
	t.Helper()
	var complete atomic.Int64
	o := newCountingOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		complete.Add(1)
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, "ok")
	})
	n := startNode(t, newFakeRunner(), mod)
	if err := n.Apply(context.Background(), snapshot(1, o.URL, "", &edgelabv1.Behavior{
		AllowedMethods: []string{"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"},
	}), nil); err != nil {
		t.Fatal(err)
	}
	return n, &complete
}

// rawExchange writes raw to a fresh viewer connection (while reading, so
// a node that answers early does not block the write) and returns the
// status of the first response.
func rawExchange(t *testing.T, n *Node, raw string) int {
	t.Helper()
	c := dialViewer(t, n.Addr())
	go func() { _, _ = io.WriteString(c, raw) }()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestViewerRefusesBadFraming: a request with both Content-Length and
// Transfer-Encoding, and chunked bodies that break their framing, get 400
// from the edge and never reach the origin as a request; a well-framed
// chunked body on the same node does.
func TestViewerRefusesBadFraming(t *testing.T) {
	n, complete := countedViewerNode(t, nil)
	const head = "POST /up HTTP/1.1\r\nHost: demo.test\r\n"
	big := strings.Repeat("x", 200<<10) // beyond the pre-read: streams before the framing breaks
	for _, tc := range []struct{ name, raw string }{
		{"content-length and chunked", head + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
		{"chunked and content-length", head + "Transfer-Encoding: chunked\r\nContent-Length: 11\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n"},
		{"content-length and identity", head + "Content-Length: 5\r\nTransfer-Encoding: identity\r\n\r\nhello"},
		{"chunk size not hex", head + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"},
		{"chunk longer than its size", head + "Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n"},
		{"chunk without CRLF", head + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXY0\r\n\r\n"},
		{"chunk size overflow", head + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nhello\r\n0\r\n\r\n"},
		{"framing breaks after the pre-read", head + fmt.Sprintf("Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\nzz\r\n", len(big), big)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := complete.Load()
			if got := rawExchange(t, n, tc.raw); got != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", got)
			}
			if got := complete.Load(); got != before {
				t.Fatalf("the origin received %d complete requests", got-before)
			}
		})
	}
	before := complete.Load()
	if got := rawExchange(t, n, head+"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"); got != 200 {
		t.Fatalf("well-framed chunked body: status %d", got)
	}
	if complete.Load() != before+1 {
		t.Fatal("well-framed chunked body did not reach the origin")
	}
}

// TestViewerBodyLimit: a body over MaxBodyBytes gets 413 whether its
// length is declared or it is chunked, without reaching the origin; one at
// the limit goes through.
func TestViewerBodyLimit(t *testing.T) {
	const limit = 100 << 10
	n, complete := countedViewerNode(t, func(c *Config) { c.MaxBodyBytes = limit })
	const head = "POST /up HTTP/1.1\r\nHost: demo.test\r\n"
	chunked := func(size int) string {
		return head + fmt.Sprintf("Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", size, strings.Repeat("c", size))
	}
	for _, tc := range []struct {
		name string
		raw  string
		want int
	}{
		{"declared over", head + fmt.Sprintf("Content-Length: %d\r\n\r\n", limit+1) + strings.Repeat("d", limit+1), 413},
		{"chunked over", chunked(limit + 1), 413},
		{"declared at", head + fmt.Sprintf("Content-Length: %d\r\n\r\n", limit) + strings.Repeat("d", limit), 200},
		{"chunked at", chunked(limit), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := complete.Load()
			if got := rawExchange(t, n, tc.raw); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
			want := before
			if tc.want == 200 {
				want++
			}
			if got := complete.Load(); got != want {
				t.Fatalf("the origin received %d complete requests, want %d", got-before, want-before)
			}
		})
	}
}

// TestViewerHeaderLimits: more headers than MaxHeaderCount, or a header
// block larger than the front end reads, are refused with 431; exactly
// MaxHeaderCount headers are served.
func TestViewerHeaderLimits(t *testing.T) {
	n, complete := countedViewerNode(t, func(c *Config) { c.MaxHeaderCount = 20 })
	headers := func(k int) string {
		var b strings.Builder
		b.WriteString("GET /h HTTP/1.1\r\nHost: demo.test\r\n") // Host counts too
		for i := 1; i < k; i++ {
			fmt.Fprintf(&b, "X-H%d: v\r\n", i)
		}
		return b.String() + "\r\n"
	}
	for _, tc := range []struct {
		name string
		raw  string
		want int
	}{
		{"at the count", headers(20), 200},
		{"over the count", headers(21), 431},
		{"far over the count", headers(5000), 431},
		{"block too large", "GET / HTTP/1.1\r\nHost: demo.test\r\nX-Big: " + strings.Repeat("b", 64<<10) + "\r\n\r\n", 431},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := complete.Load()
			if got := rawExchange(t, n, tc.raw); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
			if tc.want != 200 && complete.Load() != before {
				t.Fatal("a refused request reached the origin")
			}
		})
	}
}

// TestViewerSlowloris: 200 connections that open, send part of a header
// and then trickle a byte at a time neither stop a normal request from
// being served nor stay open past ReadHeaderTimeout: each gets 408.
func TestViewerSlowloris(t *testing.T) {
	const slow = 200
	timeout := 2 * time.Second
	n, _ := countedViewerNode(t, func(c *Config) { c.ReadHeaderTimeout = timeout })
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var closed atomic.Int64
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i := range slow {
		c, err := net.Dial("tcp", n.Addr())
		if err != nil {
			t.Fatalf("slow connection %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "GET /slow HTTP/1.1\r\nHost: demo.test\r\nX-Slow: ")
		wg.Add(2)
		go func() { // the slow client: one byte every 100 ms until the node hangs up
			defer wg.Done()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					if _, err := c.Write([]byte("a")); err != nil {
						return
					}
				}
			}
		}()
		go func() { // notices the node answering 408 and closing the connection
			defer wg.Done()
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			all, _ := io.ReadAll(c)
			if !strings.HasPrefix(string(all), "HTTP/1.1 408 ") {
				t.Errorf("slow connection got %q, want a 408", truncate(string(all), 40))
			}
			closed.Add(1)
		}()
	}
	start := time.Now()
	if r := do(t, n, "GET", "/normal", nil, ""); r.status != 200 || r.body != "ok" {
		t.Fatalf("normal request beside %d slow ones: %d %q", slow, r.status, r.body)
	}
	if took := time.Since(start); took >= timeout {
		t.Errorf("normal request took %v beside the slow ones (header timeout %v)", took, timeout)
	}
	poll.True(t, 10*time.Second, "every slow connection closed by the node", func() bool { return closed.Load() == slow })
	if took := time.Since(start); took < timeout/2 {
		t.Errorf("slow connections closed after %v, before the header timeout %v", took, timeout)
	}
}

// TestViewerIdleTimeout: a keep-alive connection with nothing to send is
// closed by the node once IdleTimeout has passed.
func TestViewerIdleTimeout(t *testing.T) {
	idle := 300 * time.Millisecond
	n, _ := countedViewerNode(t, func(c *Config) { c.IdleTimeout = idle })
	c := dialViewer(t, n.Addr())
	br := bufio.NewReader(c)
	fmt.Fprint(c, "GET /idle HTTP/1.1\r\nHost: demo.test\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("first request: %d, close %v", resp.StatusCode, resp.Close)
	}
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(10 * time.Second))
	_, err = br.ReadByte()
	took := time.Since(start)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: read %v after %v, want EOF (closed by the node)", err, took)
	}
	if took < idle/2 || took > 5*idle+time.Second {
		t.Fatalf("idle connection closed after %v, idle timeout %v", took, idle)
	}
}
