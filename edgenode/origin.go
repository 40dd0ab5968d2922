package edgenode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/edgelab/edgelab/edge"
)

// transports keeps one tuned http.Transport per (connect, read) timeout
// pair; connections to one origin host are pooled inside it.
type transports struct {
	cfg OriginConfig
	mu  sync.Mutex
	m   map[[2]time.Duration]*http.Transport
}

func newTransports(cfg OriginConfig) *transports {
	return &transports{cfg: cfg, m: map[[2]time.Duration]*http.Transport{}}
}

func (t *transports) get(connect, read time.Duration) *http.Transport {
	k := [2]time.Duration{connect, read}
	t.mu.Lock()
	defer t.mu.Unlock()
	if tr, ok := t.m[k]; ok {
		return tr
	}
	d := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		MaxIdleConns:          4 * t.cfg.MaxIdleConnsPerHost,
		MaxIdleConnsPerHost:   t.cfg.MaxIdleConnsPerHost,
		IdleConnTimeout:       t.cfg.IdleConnTimeout,
		ResponseHeaderTimeout: read,
		TLSHandshakeTimeout:   connect,
		ExpectContinueTimeout: time.Second,
		// The edge forwards no Accept-Encoding, so objects are cached once in
		// identity encoding; no transparent decompression either.
		DisableCompression: true,
	}
	t.m[k] = tr
	return tr
}

func (t *transports) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tr := range t.m {
		tr.CloseIdleConnections()
	}
}

// originResponse is a fully read origin response.
type originResponse struct {
	status int
	header http.Header
	body   []byte
}

// hopHeaders are not forwarded in either direction.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// originFetch is one request to one origin, the input of the origin
// fetch stage.
type originFetch struct {
	// req is the request as origin-request left it; it is only read.
	req  *edge.Request
	conf *originConf
	// method is req's, or GET for a cacheable HEAD miss.
	method string
	// body is the request body to send (nil: none).
	body io.Reader
	// cacheable drops the viewer's conditional headers: the cache wants
	// the full object; revalidate holds an expired object's validators.
	cacheable  bool
	revalidate http.Header
}

// fetchOrigin is the origin fetch stage: it sends f to its origin (or to
// the origin URL a function set) and reads the whole response, bounded by
// MaxResponseBytes.
func (n *Node) fetchOrigin(ctx context.Context, f originFetch) (*originResponse, error) {
	target, err := originURL(f)
	if err != nil {
		return nil, err
	}
	connect, read := f.conf.connectTimeout, f.conf.readTimeout
	if connect <= 0 {
		connect = n.cfg.Origin.ConnectTimeout
	}
	if read <= 0 {
		read = n.cfg.Origin.ReadTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, connect+2*read)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, f.method, target, f.body)
	if err != nil {
		return nil, fmt.Errorf("building origin request: %w", err)
	}
	hreq.Header = n.originHeader(f)
	start := time.Now()
	resp, err := n.origins.get(connect, read).RoundTrip(hreq)
	if err == nil {
		var got *originResponse
		if got, err = n.readOrigin(resp, f.method); err == nil {
			n.metrics.originDur.WithLabelValues(f.conf.id, "ok").Observe(time.Since(start).Seconds())
			return got, nil
		}
	}
	n.metrics.originDur.WithLabelValues(f.conf.id, "error").Observe(time.Since(start).Seconds())
	return nil, fmt.Errorf("origin %s: %w", f.conf.id, err)
}

// originURL is the URL f goes to: the origin's base (or the one a function
// set) joined with the request's path and query.
func originURL(f originFetch) (string, error) {
	base := f.conf.base
	if o := f.req.Origin; o != nil && o.URL != "" && o.URL != base.String() {
		u, err := url.Parse(o.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("origin URL %q set by function is invalid", o.URL)
		}
		base = u
	}
	target := *base
	target.Path = strings.TrimSuffix(base.Path, "/") + f.req.URI
	target.RawPath = ""
	target.RawQuery = f.req.QueryString
	return target.String(), nil
}

// dropToOrigin reports whether a request header stays at the edge: hop
// headers, the viewer's Host, Accept-Encoding (objects are cached in
// identity encoding) and Content-Length (the transport frames the body);
// with cacheable, the viewer's conditional headers.
func dropToOrigin(k string, cacheable bool) bool {
	switch k {
	case "Host", "Accept-Encoding", "Content-Length":
		return true
	}
	return slices.Contains(hopHeaders, k) || cacheable && slices.Contains(conditionalHeaders, k)
}

// conditionalHeaders are removed from cacheable origin fetches.
var conditionalHeaders = []string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range"}

// originHeader is the header set f sends: a copy of the request's (the
// one copy per attempt; value slices are shared and never appended to in
// place) without what stays at the edge, plus the origin's and the
// function's custom headers, the validators, X-Forwarded-For and Via.
func (n *Node) originHeader(f originFetch) http.Header {
	h := make(http.Header, len(f.req.Header)+4)
	for k, vs := range f.req.Header {
		if !dropToOrigin(k, f.cacheable) {
			h[k] = vs
		}
	}
	for k, v := range f.conf.customHeaders {
		h.Set(k, v)
	}
	if f.req.Origin != nil {
		for k, vs := range f.req.Origin.CustomHeaders {
			h[http.CanonicalHeaderKey(k)] = vs
		}
	}
	maps.Copy(h, f.revalidate)
	if ip := f.req.ClientIP; ip != "" {
		if prior := h.Get("X-Forwarded-For"); prior != "" {
			ip = prior + ", " + ip
		}
		h["X-Forwarded-For"] = []string{ip}
	}
	h["Via"] = append(slices.Clip(h["Via"]), n.hdr.via[0])
	return h
}

// readOrigin reads a whole origin response, bounded by MaxResponseBytes,
// and drops its hop headers.
func (n *Node) readOrigin(resp *http.Response, method string) (*originResponse, error) {
	defer resp.Body.Close()
	limit := n.cfg.Origin.MaxResponseBytes
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err == nil && int64(len(data)) > limit {
		err = fmt.Errorf("response larger than %d bytes", limit)
	}
	if err == nil && resp.ContentLength >= 0 && int64(len(data)) != resp.ContentLength && method != http.MethodHead {
		err = fmt.Errorf("short body: %d of %d bytes: %w", len(data), resp.ContentLength, io.ErrUnexpectedEOF)
	}
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	rh := resp.Header
	for _, k := range hopHeaders {
		rh.Del(k)
	}
	rh.Del("Content-Length")
	return &originResponse{status: resp.StatusCode, header: rh, body: data}, nil
}

// isTimeout reports whether err is a timeout (for logs; failover treats
// every transport error alike).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}
