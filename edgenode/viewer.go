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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// The viewer listener runs on fasthttp rather than net/http: net/http
// spends about as much CPU per keep-alive request on its own bookkeeping
// (a background-read goroutine and three read syscalls per request, a
// clone and a sort of the response header map) as the whole cache-hit
// path does. fasthttp parses into reused buffers and writes headers in one
// pass.
//
// The request is parsed once, straight from fasthttp's buffers into the
// inbound request the stages read (the same path, query and canonical header
// keys net/http would produce), and the reply is written straight into the
// fasthttp response. Node.ServeHTTP feeds the same stages for embedding.

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
	// txns recycles the transactions of this front end.
	txns txnPool
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

// parseError answers a request the front end could not parse (400), whose
// headers outgrew its read buffer (431) or did not arrive within
// ReadHeaderTimeout (408). The answer
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
	case isTimeout(err):
		// ReadHeaderTimeout passed before the headers were complete.
		status, msg = http.StatusRequestTimeout, "Request Timeout"
	}
	v.n.reqCount.inc(xError, status, time.Time{})
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

// serve runs one viewer request through the stages, on a recycled
// transaction.
func (v *viewerServer) serve(ctx *fasthttp.RequestCtx) {
	t := v.txns.get()
	t.begin(v.n)
	defer func() {
		t.end()
		v.txns.put(t)
	}()
	var rep *reply
	var r *refusal
	err := t.in.parseFast(ctx, &v.n.cfg)
	switch {
	case errors.As(err, &r):
		rep = r.reply(t.rid)
	case err != nil:
		rep = errorReply(http.StatusBadRequest, xError, "Bad request. "+err.Error(), t.rid)
	default:
		rep = t.serve(v.base)
	}
	if err != nil || t.in.bodyFault() != nil {
		// What follows on the connection cannot be trusted to start a
		// request.
		ctx.SetConnectionClose()
	}
	t.writeFast(ctx, rep)
}

// parseFast is the parse stage of the fasthttp front end: the request
// fasthttp read, as net/http's server would see it (the raw target parsed
// as url.ParseRequestURI does, canonical header keys, every value of a
// repeated header), straight into v; and the listener limits of cfg
// (header count, framing, body size), whose violations are *refusal.
func (v *inbound) parseFast(ctx *fasthttp.RequestCtx, cfg *Config) error {
	rh := &ctx.Request.Header
	raw, rawHeaders := rh.RequestURI(), rh.RawHeaders()
	// One string holds the target and every header name and value.
	v.scratch = append(append(v.scratch[:0], raw...), rawHeaders...)
	all := string(v.scratch)
	target, block := all[:len(raw)], all[len(raw):]
	path, query, host, err := parseTarget(target)
	if err != nil {
		return err
	}
	v.req.Method = internMethod(rh.Method())
	v.req.URI, v.req.QueryString = path, query
	v.uriLen, v.target = len(target), target
	lines := strings.Count(block, "\n")
	if lines > cfg.MaxHeaderCount+1 { // +1: the blank line that ends the block
		return &refusal{status: http.StatusRequestHeaderFieldsTooLarge, reason: fmt.Sprintf("Too many request headers (more than %d).", cfg.MaxHeaderCount)}
	}
	hs := newHeaderSet(v, lines)
	if err := parseRawHeaders(block, &hs); err != nil {
		return err
	}
	if host != "" {
		v.host = host
	}
	v.remoteIP = ctx.RemoteIP()
	if a, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		v.remotePort = a.Port
	}
	v.httpVersion, v.tls = "1.0", ctx.IsTLS()
	if ctx.Request.Header.IsHTTP11() {
		v.httpVersion = "1.1"
	}
	return v.bodyFast(ctx, cfg.MaxBodyBytes)
}

// bodyFast is the body part of parseFast: ambiguous framing and oversized
// bodies are refused, a chunked body is pre-read (viewerbody.go), and the
// rest streams.
func (v *inbound) bodyFast(ctx *fasthttp.RequestCtx, limit int64) error {
	_, hasLength := v.req.Header["Content-Length"]
	if hasLength && v.transferEncoding {
		return errAmbiguousFraming
	}
	v.contentLength = 0
	switch cl := ctx.Request.Header.ContentLength(); {
	case cl > 0:
		if int64(cl) > limit {
			return errBodyTooLarge
		}
		v.contentLength, v.body = int64(cl), ctx.RequestBodyStream()
	case cl == -1: // chunked
		v.vbody = &viewerBody{r: ctx.RequestBodyStream(), limit: limit}
		start, rest, err := v.vbody.preRead()
		switch {
		case err != nil:
			return err
		case rest == nil && len(start) > 0:
			v.contentLength, v.body = int64(len(start)), bytes.NewReader(start)
		case rest != nil:
			v.contentLength, v.body = -1, rest
		}
	}
	if v.body != nil {
		// The body streams while the stages read it: lift the header
		// deadline (the origin fetch bounds the upload instead).
		_ = ctx.SetReadDeadline(time.Time{})
	}
	return nil
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

func (s fastSink) setInt(k string, n int) {
	var buf [20]byte
	s.h.AddBytesV(k, strconv.AppendInt(buf[:0], int64(n), 10))
}

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
	t.n.reqCount.inc(rep.xcache, status, t.start)
	t.logAccess(rep, status, len(ctx.Response.Body()))
}
