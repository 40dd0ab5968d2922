package edgenode

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/viewerinfo"
)

// inbound is a viewer request parsed once, by either front end
// (viewer.go, servehttp.go), into the edge.Request every stage reads, plus
// what only the edge itself checks.
type inbound struct {
	// req has Method, URI (the decoded path, starting with "/"),
	// QueryString (raw) and Header: canonical keys, without Host and
	// Transfer-Encoding, and without the headers functions may not see.
	// Those are dropped here, the one place they are: they go neither to a
	// function nor to the origin. ClientIP is filled by fillClientIP.
	req  edge.Request
	host string
	// uriLen is the length of the raw request target (414 at MaxURIBytes);
	// target is that target, for the signed URL check (signed.go).
	uriLen int
	target string
	// viewerQuery is the query as sent when the signed URL check removed
	// its signing parameters from req ("" otherwise), for the access log.
	viewerQuery string
	// headerBytes is the size of the headers the viewer sent, Host aside;
	// with the query string and the host added (route), the quantity
	// CloudFront bounds (494 above MaxHeaderBytes).
	headerBytes int
	// body is the request body (nil: none); contentLength its declared
	// length (-1: chunked). vbody is the fasthttp front end's framing and
	// size check on a chunked body (nil: none), read through body.
	body          io.Reader
	contentLength int64
	vbody         *viewerBody
	// transferEncoding is set when the viewer sent Transfer-Encoding.
	transferEncoding bool
	// remoteIP is the viewer's address from the fasthttp front end, turned
	// into ClientIP only when a function or the origin needs it.
	remoteIP net.IP
	// hop is the tier request header (hopHeader) as sent; only a REC
	// reads it (tierRoute).
	hop string
	// remotePort, httpVersion ("1.1") and tls describe the viewer's
	// connection, for the CloudFront-Viewer-* headers (viewer.go in
	// package viewerinfo); countryOverride is viewerinfo.OverrideHeader.
	remotePort      int
	httpVersion     string
	tls             bool
	countryOverride string
	// hostHeader is the Host header's value slice, for exposeHost.
	hostHeader []string
	// scratch is the fasthttp front end's copy buffer, kept across the
	// requests a recycled transaction serves.
	scratch []byte
}

// fillClientIP sets req.ClientIP from the viewer's address.
func (v *inbound) fillClientIP() {
	if v.req.ClientIP == "" && v.remoteIP != nil {
		v.req.ClientIP = v.remoteIP.String()
	}
}

// exposeHost adds the Host header to the request functions see.
func (v *inbound) exposeHost() {
	if len(v.hostHeader) == 1 && v.hostHeader[0] == v.host {
		v.req.Header["Host"] = v.hostHeader
		return
	}
	v.req.Header["Host"] = []string{v.host}
}

// headerSet collects viewer headers into an inbound request. Single values
// share one backing array (capacity-limited sub-slices: an append
// elsewhere copies instead of overwriting a neighbour).
type headerSet struct {
	v    *inbound
	vals []string
}

func newHeaderSet(v *inbound, lines int) headerSet {
	v.req.Header = make(http.Header, lines)
	return headerSet{v: v, vals: make([]string, 0, lines)}
}

// add records one header: Host is taken out (the first one counts),
// Transfer-Encoding is the front end's, every other header counts towards
// headerBytes, and the disallowed ones stop here.
func (s *headerSet) add(key, val string) {
	switch key {
	case "Host":
		if s.v.host == "" {
			s.v.host = val
			s.vals = append(s.vals, val)
			i := len(s.vals) - 1
			s.v.hostHeader = s.vals[i : i+1 : i+1]
		}
		return
	case "Transfer-Encoding":
		s.v.transferEncoding = true
		return
	case hopHeader:
		s.v.hop = val
		return
	}
	s.v.headerBytes += len(key) + len(val) + 4
	if sandbox.IsDisallowedHeader(key) {
		if key == viewerinfo.OverrideHeader {
			s.v.countryOverride = val
		}
		return
	}
	h := s.v.req.Header
	if old, ok := h[key]; ok {
		h[key] = append(old[:len(old):len(old)], val)
		return
	}
	s.vals = append(s.vals, val)
	i := len(s.vals) - 1
	h[key] = s.vals[i : i+1 : i+1]
}

// spelt records that the viewer spelt the header key as name (edge's
// Request.HeaderKeys), for the headers functions see.
func (s *headerSet) spelt(key, name string) {
	if _, shown := s.v.req.Header[key]; !shown || key == "Host" {
		return
	}
	if s.v.req.HeaderKeys == nil {
		s.v.req.HeaderKeys = map[string]string{}
	}
	s.v.req.HeaderKeys[key] = name
}

var errObsFold = errors.New("malformed header: obsolete line folding")

// parseRawHeaders adds a raw header block (as the viewer sent it, one
// "Name: value" per line) to s with canonical keys, keeping every value of
// a repeated header in order, like net/textproto. A name that is not an
// HTTP token or a value with control bytes is an error. Names and values are
// slices of block: no allocation per header.
func parseRawHeaders(block string, s *headerSet) error {
	for len(block) > 0 {
		line, rest, _ := strings.Cut(block, "\n")
		block = rest
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			return errObsFold
		}
		colon := strings.IndexByte(line, ':')
		if colon <= 0 {
			return fmt.Errorf("malformed header line %q", truncate(line, 40))
		}
		name, val := line[:colon], trimOWS(line[colon+1:])
		// What the origin transport would refuse to send is refused here,
		// as the viewer's error (400), not the origin's (502).
		if !httpguts.ValidHeaderFieldName(name) {
			return fmt.Errorf("malformed header name %q", truncate(name, 40))
		}
		if !httpguts.ValidHeaderFieldValue(val) {
			return fmt.Errorf("malformed value of header %q", truncate(name, 40))
		}
		key := http.CanonicalHeaderKey(name)
		s.add(key, val)
		if key != name {
			s.spelt(key, name)
		}
	}
	return nil
}

// trimOWS trims the spaces and tabs around a header value.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// parseTarget splits a request target as url.ParseRequestURI does into the
// decoded path (starting with "/"), the raw query and, for an
// absolute-form target, the host. An origin-form target without escapes or
// control bytes, the common case, is sliced without allocating.
func parseTarget(raw string) (path, query, host string, err error) {
	if plainTarget(raw) {
		path, query, _ = strings.Cut(raw, "?")
		return path, query, "", nil
	}
	u, err := url.ParseRequestURI(raw)
	if err != nil {
		return "", "", "", fmt.Errorf("malformed request URI: %w", err)
	}
	path = u.Path
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	return path, u.RawQuery, u.Host, nil
}

// plainTarget reports whether raw is an origin-form target whose path has
// no escapes and which has no control bytes: url.ParseRequestURI would
// return its path and query unchanged.
func plainTarget(raw string) bool {
	if raw == "" || raw[0] != '/' {
		return false
	}
	inPath := true
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c < ' ' || c == 0x7f:
			return false
		case c == '?':
			inPath = false
		case c == '%' && inPath:
			return false
		}
	}
	return true
}

// internMethod returns the method as a string without allocating for the
// common ones.
func internMethod(m []byte) string {
	for _, k := range [...]string{"GET", "HEAD", "POST", "PUT", "OPTIONS", "DELETE", "PATCH"} {
		if string(m) == k {
			return k
		}
	}
	return string(m)
}

// knownMethod reports whether CloudFront accepts the method at all.
func knownMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return true
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// clientIP is the host part of a net/http RemoteAddr.
func clientIP(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	return remote
}
