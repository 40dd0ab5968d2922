package edgenode

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgelab/edgelab/sandbox"
)

// The viewer request path's fuzz targets: the target split, the header
// block and whole requests sent to a live viewer listener. Seeds beside
// the ones added here are in testdata/fuzz/<FuzzName>/.

// FuzzParseTarget: on any target, the parse stage and url.ParseRequestURI
// agree on failure, path, query and host.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"/", "/a?b", "/%41", "http://h/p", "*", "/\x00", "/a%zz?q"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		path, query, host, err := parseTarget(raw)
		u, uerr := url.ParseRequestURI(raw)
		if (err != nil) != (uerr != nil) {
			t.Fatalf("%q: err %v, net/url %v", raw, err, uerr)
		}
		if err != nil {
			return
		}
		want := u.Path
		if want == "" || want[0] != '/' {
			want = "/" + want
		}
		if path != want || query != u.RawQuery || host != u.Host {
			t.Fatalf("%q: got (%q, %q, %q), want (%q, %q, %q)", raw, path, query, host, want, u.RawQuery, u.Host)
		}
	})
}

// FuzzParseRawHeaders: any header block either is refused with an error
// or yields canonical keys holding every value of every line, in order
// and trimmed, except Host, Transfer-Encoding and the headers functions
// may not see; those are counted all the same.
func FuzzParseRawHeaders(f *testing.F) {
	for _, s := range []string{
		"Host: a\r\nX-A: 1\r\nx-a: 2\r\n\r\n",
		"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
		"X-Amz-Cf-Id: x\r\nVia: 1.1 a\r\n",
		" folded\r\n", "no-colon\r\n", ":empty-name\r\n", "A:\t v \t\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, block string) {
		var v inbound
		hs := newHeaderSet(&v, strings.Count(block, "\n"))
		if err := parseRawHeaders(block, &hs); err != nil {
			return
		}
		want, bytesWant := expectedHeaders(block)
		if v.headerBytes != bytesWant {
			t.Fatalf("headerBytes %d, want %d", v.headerBytes, bytesWant)
		}
		for k, vs := range v.req.Header {
			if http.CanonicalHeaderKey(k) != k {
				t.Fatalf("key %q is not canonical", k)
			}
			if k == "Host" || k == "Transfer-Encoding" || sandbox.IsDisallowedHeader(k) {
				t.Fatalf("header %q reached the request", k)
			}
			if strings.Join(vs, "\x00") != strings.Join(want[k], "\x00") {
				t.Fatalf("%s: %q, want %q", k, vs, want[k])
			}
			delete(want, k)
		}
		for k := range want {
			t.Fatalf("header %s lost", k)
		}
	})
}

// expectedHeaders is what a well-formed block holds, found line by line
// independently of parseRawHeaders: the values a request keeps per key,
// and the bytes CloudFront's limit counts (every header but Host).
func expectedHeaders(block string) (map[string][]string, int) {
	want := map[string][]string{}
	n := 0
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		name, val, _ := strings.Cut(line, ":")
		k := http.CanonicalHeaderKey(name)
		val = strings.Trim(val, " \t")
		switch {
		case k == "Host", k == "Transfer-Encoding":
			continue
		case sandbox.IsDisallowedHeader(k):
		default:
			want[k] = append(want[k], val)
		}
		n += len(k) + len(val) + 4
	}
	return want, n
}

// FuzzViewerRequest sends any bytes as a viewer connection's input to a
// live node (whose origin answers every complete request 200), then
// closes its side. Whatever the bytes, the node answers with a valid
// HTTP/1.1 status line or closes without one, never fails with a 5xx of
// its own (the origin is up; only 501 and 505 say what the viewer sent),
// and closes the connection in bounded time.
func FuzzViewerRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
		"POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"GET /a HTTP/1.1\r\nHost: a\r\n\r\nHEAD /b HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET http://h.test/p?q HTTP/1.1\r\n\r\n",
		"BREW / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		"",
	} {
		f.Add([]byte(s))
	}
	n, _ := countedViewerNode(f, func(c *Config) {
		c.ReadHeaderTimeout = 2 * time.Second
		c.MaxHeaderCount = 20
		c.MaxBodyBytes = 256 << 10
	})
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := net.Dial("tcp", n.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			_, _ = c.Write(in)
			_ = c.(*net.TCPConn).CloseWrite()
		}()
		out, err := io.ReadAll(c)
		if err != nil && !isReset(err) {
			t.Fatalf("reading the answer: %v (got %q)", err, truncate(string(out), 80))
		}
		if len(out) == 0 {
			return
		}
		status, ok := statusOf(out)
		if !ok {
			t.Fatalf("not an HTTP/1.1 answer: %q", truncate(string(out), 80))
		}
		if status >= 500 && status != http.StatusNotImplemented && status != http.StatusHTTPVersionNotSupported {
			t.Fatalf("status %d for %q:\n%s", status, truncate(string(in), 200), truncate(string(out), 400))
		}
	})
}

// statusOf reads the status code of the first response in out.
func statusOf(out []byte) (int, bool) {
	line, _, _ := bytes.Cut(out, []byte("\r\n"))
	rest, ok := bytes.CutPrefix(line, []byte("HTTP/1.1 "))
	if !ok || len(rest) < 3 {
		return 0, false
	}
	code, err := strconv.Atoi(string(rest[:3]))
	return code, err == nil && code >= 100 && code <= 599
}

// isReset reports whether err is the node resetting the connection (it
// closes with unread input once it has answered a request it refused).
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET)
}
