package edgenode

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// seenRequest is what the test origin received.
type seenRequest struct {
	method string
	uri    string
	header http.Header
	size   int
	sum    [32]byte
}

// recordingOrigin answers 200 "ok" (no-store) and records every request.
func recordingOrigin(t *testing.T) (url string, last func() seenRequest) {
	t.Helper()
	var mu sync.Mutex
	var got seenRequest
	o := newCountingOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = seenRequest{method: r.Method, uri: r.URL.RequestURI(), header: r.Header.Clone(), size: len(b), sum: sha256.Sum256(b)}
		mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, "ok")
	})
	return o.URL, func() seenRequest {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}

func viewerNode(t *testing.T, originURL string) *Node {
	t.Helper()
	n := startNode(t, newFakeRunner(), nil)
	if err := n.Apply(context.Background(), snapshot(1, originURL, "", &edgelabv1.Behavior{
		AllowedMethods: []string{"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"},
	}), nil); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestViewerBodies: request bodies reach the origin intact through the
// viewer front end, whether sized or chunked, small or far larger than what
// is read before the pipeline starts (they stream).
func TestViewerBodies(t *testing.T) {
	url, last := recordingOrigin(t)
	n := viewerNode(t, url)
	for _, tc := range []struct {
		name    string
		size    int
		chunked bool
	}{
		{"small", 100, false},
		{"larger than the pre-read", 3 << 20, false},
		{"chunked", 300 << 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := bytes.Repeat([]byte("0123456789abcdef"), tc.size/16)
			var rd io.Reader = bytes.NewReader(body)
			if tc.chunked {
				rd = io.MultiReader(rd) // hides the length: the client sends it chunked
			}
			req, err := http.NewRequest("POST", n.URL()+"/upload", rd)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			got := last()
			if got.method != "POST" || got.size != len(body) || got.sum != sha256.Sum256(body) {
				t.Fatalf("origin got %s with %d bytes, want POST with %d intact bytes", got.method, got.size, len(body))
			}
		})
	}
}

// dialViewer opens a raw connection to a node's viewer listener for
// hand-written requests; every read and write on it gives up after 10 s,
// and it is closed when the test ends.
func dialViewer(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// TestViewerHeadersAndURI: repeated headers keep every value in order,
// header names are canonical, the raw request URI reaches the origin
// unnormalised, and HEAD answers carry the length without a body.
func TestViewerHeadersAndURI(t *testing.T) {
	url, last := recordingOrigin(t)
	n := viewerNode(t, url)
	c := dialViewer(t, n.Addr())
	br := bufio.NewReader(c)
	fmt.Fprint(c, "GET /a/../b//c?x=1&x=2 HTTP/1.1\r\nHost: demo.test\r\nx-multi: one\r\nX-Multi: two\r\nx-lower-case: v \r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for _, k := range []string{"X-Cache", "Via", "X-Edgelab-Pop", "X-Edgelab-Node", "X-Edgelab-Request-Id", "Content-Length", "Cache-Control", "Content-Type"} {
		if v := resp.Header.Values(k); len(v) != 1 {
			t.Errorf("response header %s: %q, want exactly one value", k, v)
		}
	}
	got := last()
	if got.uri != "/a/../b//c?x=1&x=2" {
		t.Errorf("origin URI %q", got.uri)
	}
	if v := got.header.Values("X-Multi"); len(v) != 2 || v[0] != "one" || v[1] != "two" {
		t.Errorf("X-Multi at the origin: %q", v)
	}
	if v := got.header.Get("X-Lower-Case"); v != "v" {
		t.Errorf("X-Lower-Case at the origin: %q", v)
	}

	// HEAD on the same connection: length, no body, and the connection
	// stays usable for the next request.
	fmt.Fprint(c, "HEAD /h HTTP/1.1\r\nHost: demo.test\r\n\r\nGET /after HTTP/1.1\r\nHost: demo.test\r\n\r\n")
	head, err := http.ReadResponse(br, &http.Request{Method: "HEAD"})
	if err != nil {
		t.Fatal(err)
	}
	if head.StatusCode != 200 || head.ContentLength != 2 {
		t.Fatalf("HEAD: %d, length %d", head.StatusCode, head.ContentLength)
	}
	after, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("pipelined request after HEAD: %v", err)
	}
	b, _ := io.ReadAll(after.Body)
	if after.StatusCode != 200 || string(b) != "ok" {
		t.Fatalf("pipelined request after HEAD: %d %q", after.StatusCode, b)
	}
}

// TestViewerMalformed: requests the front end cannot parse get a 4xx
// (never a 502 from an origin transport refusing what was let through)
// and the node keeps serving.
func TestViewerMalformed(t *testing.T) {
	url, _ := recordingOrigin(t)
	n := viewerNode(t, url)
	for _, tc := range []struct {
		name, raw string
		want      int
	}{
		{"garbage request line", "NONSENSE\r\n\r\n", 400},
		{"header without colon", "GET / HTTP/1.1\r\nHost: demo.test\r\nbroken header\r\n\r\n", 400},
		{"bad content length", "POST / HTTP/1.1\r\nHost: demo.test\r\nContent-Length: abc\r\n\r\n", 400},
		{"header name not a token", "GET / HTTP/1.1\r\nHost: demo.test\r\nX Bad: 1\r\n\r\n", 400},
		{"huge header block", "GET / HTTP/1.1\r\nHost: demo.test\r\nX-Big: " + strings.Repeat("b", 200<<10) + "\r\n\r\n", 431},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialViewer(t, n.Addr())
			go func() { _, _ = io.WriteString(c, tc.raw) }()
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if r := do(t, n, "GET", "/still-ok", nil, ""); r.status != 200 {
				t.Fatalf("node after: %d", r.status)
			}
		})
	}
}

// TestViewerHTTP10: an HTTP/1.0 request is served and its connection
// closed after the answer (no keep-alive asked for).
func TestViewerHTTP10(t *testing.T) {
	url, last := recordingOrigin(t)
	n := viewerNode(t, url)
	c := dialViewer(t, n.Addr())
	fmt.Fprint(c, "GET /old HTTP/1.0\r\nHost: demo.test\r\n\r\n")
	all, err := io.ReadAll(c) // ends when the node closes the connection
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(all)), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "ok" || last().uri != "/old" {
		t.Fatalf("HTTP/1.0: %d %q, origin saw %q", resp.StatusCode, b, last().uri)
	}
}
