package edgenode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// The viewer listener runs on fasthttp rather than net/http. Measured on
// the 2-core bench machine (docs/performance.md): net/http spends about
// 8 us per keep-alive request in its own bookkeeping (a background-read
// goroutine and three read syscalls per request, a clone and a sort of the
// response header map), which is as much as the whole cache-hit pipeline.
// fasthttp parses into reused buffers and writes headers in one pass.
//
// The pipeline itself (txn) still speaks net/http types: the request is
// converted once (the same url.ParseRequestURI and canonical header keys
// net/http would produce) and the reply is written straight into the
// fasthttp response. Node.ServeHTTP serves the same pipeline for embedding.

// viewerServer is the node's HTTP/1.1 front end.
type viewerServer struct {
	n   *Node
	ln  net.Listener
	srv *fasthttp.Server
	// base is the context handed to the pipeline for every request; it is
	// cancelled by close (fasthttp requests have no per-request context).
	base   context.Context
	cancel context.CancelFunc

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// readBufferSize bounds the request line plus headers fasthttp accepts.
// It leaves room above MaxHeaderBytes and MaxURIBytes so the pipeline can
// answer 494 and 414 itself (CloudFront's answers); beyond it the viewer
// gets 431 from the front end.
func readBufferSize(cfg Config) int {
	return cfg.MaxHeaderBytes + cfg.MaxURIBytes + 4096
}

func newViewerServer(n *Node, ln net.Listener) *viewerServer {
	v := &viewerServer{n: n, ln: ln, conns: map[net.Conn]struct{}{}}
	v.base, v.cancel = context.WithCancel(context.Background())
	v.srv = &fasthttp.Server{
		Handler:      v.serve,
		ErrorHandler: v.parseError,
		// A viewer has ReadHeaderTimeout to send its request line and
		// headers; the pipeline lifts the deadline while it streams a body.
		ReadTimeout:       n.cfg.ReadHeaderTimeout,
		IdleTimeout:       n.cfg.IdleTimeout,
		ReadBufferSize:    readBufferSize(n.cfg),
		StreamRequestBody: true,
		// Up to this much of a body is read before the pipeline starts (under
		// the header deadline); the rest streams to the origin.
		MaxRequestBodySize:           64 << 10,
		DisablePreParseMultipartForm: true,
		// Paths reach the pipeline as the viewer sent them (the raw request
		// URI, parsed as net/http does; fasthttp's normalised URI is unused).
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		CloseOnShutdown:       true,
		Logger:                fasthttpLogger{n.cfg.Logger},
		ConnState:             v.connState,
	}
	return v
}

func (v *viewerServer) connState(c net.Conn, s fasthttp.ConnState) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch s {
	case fasthttp.StateNew:
		v.conns[c] = struct{}{}
	case fasthttp.StateClosed, fasthttp.StateHijacked:
		delete(v.conns, c)
	}
}

// shutdown stops accepting, lets in-flight requests finish and closes
// idle connections, until ctx is done.
func (v *viewerServer) shutdown(ctx context.Context) error {
	// Close the listener first: fasthttp only closes listeners Serve has
	// registered, and Serve may not have got that far yet.
	_ = v.ln.Close()
	err := v.srv.ShutdownWithContext(ctx)
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// close closes the listener and every viewer connection at once.
func (v *viewerServer) close() {
	v.cancel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = v.shutdown(ctx) // closes the listener, stops Serve
	v.mu.Lock()
	for c := range v.conns {
		_ = c.Close()
	}
	v.mu.Unlock()
}

// fasthttpLogger sends fasthttp's own messages (connection errors) to the
// node's logger at debug level.
type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	if f.l != nil {
		f.l.Debug("edgenode: viewer connection: " + fmt.Sprintf(format, args...))
	}
}

// lingerLimit bounds how much of a rejected request is drained, and
// lingerTime for how long, before its connection closes.
const (
	lingerLimit = 1 << 20
	lingerTime  = 500 * time.Millisecond
)

// parseError answers a request the front end could not parse. The answer
// is written here, then the connection is half-closed and what the viewer
// is still sending is drained for a moment (a lingering close, as
// net/http does): closing a socket with unread data sends a reset, and the
// viewer would see "connection reset" instead of the 431 or 400.
func (v *viewerServer) parseError(ctx *fasthttp.RequestCtx, err error) {
	status, msg := http.StatusBadRequest, "Bad Request"
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.As(err, &small):
		status, msg = http.StatusRequestHeaderFieldsTooLarge, "Request Header Fields Too Large"
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		status, msg = http.StatusRequestEntityTooLarge, "Request Entity Too Large"
	}
	v.n.reqCount.inc(xError, status)
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.Response.Header.Set("Content-Type", "text/plain; charset=utf-8")
	ctx.Response.Header.Set("Connection", "close")
	ctx.SetBodyString(msg + "\n")
	c := ctx.Conn()
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok {
		return // fasthttp writes the response and closes
	}
	_ = c.SetWriteDeadline(time.Now().Add(lingerTime))
	if _, werr := ctx.Response.WriteTo(c); werr != nil {
		return
	}
	_ = cw.CloseWrite()
	_ = c.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, c, lingerLimit)
	// fasthttp's own write of the response now fails on the half-closed
	// socket and it closes the connection.
}

// serve runs one viewer request through the pipeline.
func (v *viewerServer) serve(ctx *fasthttp.RequestCtx) {
	t := v.n.beginTxn()
	defer t.end()
	r, err := viewerRequest(ctx)
	var rep *reply
	if err != nil {
		rep = errorReply(http.StatusBadRequest, xError, "Bad request. "+err.Error(), t.rid)
		ctx.SetConnectionClose()
	} else {
		rep = t.serve(v.base, r)
	}
	t.writeFast(ctx, rep)
}

// viewerRequest converts the parsed request into the *http.Request the
// pipeline reads: the same fields net/http's server would fill in.
func viewerRequest(ctx *fasthttp.RequestCtx) (*http.Request, error) {
	rh := &ctx.Request.Header
	rawURI := string(rh.RequestURI())
	u, err := url.ParseRequestURI(rawURI)
	if err != nil {
		return nil, fmt.Errorf("malformed request URI: %w", err)
	}
	r := &http.Request{
		Method:     internMethod(rh.Method()),
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header, headerLines(rh.RawHeaders())),
		RequestURI: rawURI,
		RemoteAddr: ctx.RemoteAddr().String(),
	}
	if !rh.IsHTTP11() {
		r.Proto, r.ProtoMinor = "HTTP/1.0", 0
	}
	if err := parseRawHeaders(rh.RawHeaders(), r.Header); err != nil {
		return nil, err
	}
	r.Host = u.Host
	if r.Host == "" {
		r.Host = r.Header.Get("Host")
	}
	delete(r.Header, "Host")
	delete(r.Header, "Transfer-Encoding")

	switch cl := rh.ContentLength(); {
	case cl > 0:
		r.ContentLength = int64(cl)
	case cl == -1: // chunked
		r.ContentLength = -1
		r.TransferEncoding = []string{"chunked"}
	default:
		r.ContentLength = 0
	}
	if r.ContentLength != 0 {
		// The body streams while the pipeline reads it: lift the header
		// deadline (the origin fetch bounds the upload instead).
		_ = ctx.SetReadDeadline(time.Time{})
		r.Body = io.NopCloser(ctx.RequestBodyStream())
	} else {
		r.Body = http.NoBody
	}
	return r, nil
}

// headerLines counts the header lines of a raw header block: a map sized
// for exactly that many keys. A fixed hint above 8 (the size of one
// group of Go's maps) allocated a table and a directory per request, about
// 1 us of a node's CPU; most requests have fewer headers than that.
func headerLines(raw []byte) int {
	return bytes.Count(raw, []byte{'\n'})
}

// internMethod returns the method as a string without allocating for the
// common ones.
func internMethod(m []byte) string {
	switch string(m) {
	case "GET":
		return "GET"
	case "HEAD":
		return "HEAD"
	case "POST":
		return "POST"
	case "PUT":
		return "PUT"
	case "OPTIONS":
		return "OPTIONS"
	case "DELETE":
		return "DELETE"
	case "PATCH":
		return "PATCH"
	}
	return string(m)
}

// commonHeaderKeys interns the canonical header names viewers send most,
// so converting them allocates nothing.
var commonHeaderKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language",
		"Authorization", "Cache-Control", "Connection", "Content-Length", "Content-Type", "Cookie",
		"Host", "If-Match", "If-Modified-Since", "If-None-Match", "If-Range", "If-Unmodified-Since",
		"Origin", "Pragma", "Range", "Referer", "Te", "Upgrade", "User-Agent", "Via",
		"X-Forwarded-For", "X-Forwarded-Proto", "X-Requested-With", "X-Viewer-Region",
		"Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-Dest", "Upgrade-Insecure-Requests",
		"Cloudfront-Viewer-Country", "Expect", "Transfer-Encoding"} {
		m[k] = k
	}
	return m
}()

var errObsFold = errors.New("malformed header: obsolete line folding")

// parseRawHeaders adds the raw header block (as the viewer sent it, one
// "Name: value" per line) to h with canonical keys, keeping every value
// of a repeated header in order, like net/textproto.
func parseRawHeaders(raw []byte, h http.Header) error {
	for len(raw) > 0 {
		var line []byte
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			line, raw = raw, nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			return errObsFold
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return fmt.Errorf("malformed header line %q", truncate(string(line), 40))
		}
		name := line[:colon]
		key, ok := commonHeaderKeys[string(name)]
		if !ok {
			key = http.CanonicalHeaderKey(string(name))
		}
		val := strings.TrimFunc(string(line[colon+1:]), func(r rune) bool { return r == ' ' || r == '\t' })
		h[key] = append(h[key], val)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// fastSink writes headers into a fresh fasthttp response. responseHeaders
// sets every key once, so values are appended (Add) rather than Set, which
// would search the headers already written for the key each time.
type fastSink struct{ h *fasthttp.ResponseHeader }

func (s fastSink) set(k string, vs []string) {
	for _, v := range vs {
		s.h.Add(k, v)
	}
}

func (s fastSink) set1(k, v string) { s.h.Add(k, v) }

// writeFast sends rep with the edge headers into the fasthttp response.
func (t *txn) writeFast(ctx *fasthttp.RequestCtx, rep *reply) {
	status, bodyAllowed := t.responseHeaders(rep, fastSink{&ctx.Response.Header})
	ctx.Response.SetStatusCode(status)
	if bodyAllowed {
		if ctx.IsHead() {
			ctx.Response.Header.SetContentLength(len(rep.body))
			ctx.Response.SkipBody = true
		} else {
			// The body may be the cache's copy: fasthttp only reads it.
			ctx.Response.SetBodyRaw(rep.body)
		}
	} else {
		ctx.Response.SkipBody = true
	}
	t.n.reqCount.inc(rep.xcache, status)
}
