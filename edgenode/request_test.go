package edgenode

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// TestParseTargetMatchesNetHTTP: the parse stage's split of a request
// target agrees with url.ParseRequestURI (what net/http's server uses) on
// ordinary and hostile targets, on its fast path and off it.
func TestParseTargetMatchesNetHTTP(t *testing.T) {
	for _, raw := range []string{
		"/", "/a/b", "/a?x=1&y=2", "/a?", "/a??b", "/a#frag", "//double/slash", "/sp%20ace", "/a%2Fb?q=%zz",
		"/bad%zz", "/ctl\x01", "/del\x7f", "/q?ctl=\x02", "http://h.test/p?q=1", "http://h.test", "*",
		"relative", "", "/ünïcode", "/a;b=c", "/%", "/p?%",
	} {
		path, query, host, err := parseTarget(raw)
		u, uerr := url.ParseRequestURI(raw)
		if (err != nil) != (uerr != nil) {
			t.Errorf("%q: err %v, net/url %v", raw, err, uerr)
			continue
		}
		if err != nil {
			continue
		}
		wantPath := u.Path
		if wantPath == "" || wantPath[0] != '/' {
			wantPath = "/" + wantPath
		}
		if path != wantPath || query != u.RawQuery || host != u.Host {
			t.Errorf("%q: got (%q, %q, %q), want (%q, %q, %q)", raw, path, query, host, wantPath, u.RawQuery, u.Host)
		}
	}
}

// TestParseRawHeaders: canonical keys, repeated values in order, Host and
// Transfer-Encoding taken out, disallowed headers dropped but counted,
// values trimmed, and malformed blocks refused.
func TestParseRawHeaders(t *testing.T) {
	raw := "host: a.test\r\nx-one: 1\r\nAccept:  text/html \t\r\nx-one: 2\r\nTransfer-Encoding: chunked\r\nX-Amz-Cf-Id: hidden\r\nx-empty:\r\n\r\n"
	var v inbound
	hs := newHeaderSet(&v, 8)
	if err := parseRawHeaders(raw, &hs); err != nil {
		t.Fatal(err)
	}
	h := v.req.Header
	if v.host != "a.test" || h["Host"] != nil || h["Transfer-Encoding"] != nil || h["X-Amz-Cf-Id"] != nil {
		t.Errorf("host %q, header %v", v.host, h)
	}
	if !slices.Equal(h["X-One"], []string{"1", "2"}) || h.Get("Accept") != "text/html" || h["X-Empty"] == nil {
		t.Errorf("header %v", h)
	}
	// Counted: X-One twice, Accept, X-Amz-Cf-Id, X-Empty (each name + value + 4).
	if want := (5 + 1 + 4) + (6 + 9 + 4) + (5 + 1 + 4) + (11 + 6 + 4) + (7 + 0 + 4); v.headerBytes != want {
		t.Errorf("headerBytes %d, want %d", v.headerBytes, want)
	}
	// An append to one value set never writes into another's.
	h["X-Empty"] = append(h["X-Empty"], "late")
	if h.Get("Accept") != "text/html" {
		t.Errorf("append overwrote a neighbour: %v", h)
	}
	for _, bad := range []string{"x-a: 1\r\n folded\r\n", "no-colon\r\n", ": empty-name\r\n"} {
		var v inbound
		hs := newHeaderSet(&v, 2)
		if err := parseRawHeaders(bad, &hs); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestFromNetStripsDisallowed: the net/http adapter parses into the same
// representation without touching the caller's headers.
func TestFromNetStripsDisallowed(t *testing.T) {
	r, err := http.NewRequest("GET", "http://h.test/p?q=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.RequestURI = "/p?q=1"
	r.RemoteAddr = "192.0.2.1:5000"
	r.Header.Set("X-Edgelab-Node", "spoofed")
	r.Header.Set("X-Keep", "k")
	var v inbound
	v.fromNet(r)
	if v.req.Header.Get("X-Edgelab-Node") != "" || v.req.Header.Get("X-Keep") != "k" || r.Header.Get("X-Edgelab-Node") != "spoofed" {
		t.Errorf("headers %v (caller's %v)", v.req.Header, r.Header)
	}
	if v.req.URI != "/p" || v.req.QueryString != "q=1" || v.host != "h.test" || v.req.ClientIP != "192.0.2.1" || v.uriLen != 6 {
		t.Errorf("parsed %+v host %q", v.req, v.host)
	}
}
