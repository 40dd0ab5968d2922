package edgenode

import (
	"context"
	"crypto/tls"
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

// transports keeps one tuned http.Transport per transportKey (timeouts and
// TLS floor); connections to one origin host are pooled inside it.
type transports struct {
	cfg OriginConfig
	mu  sync.Mutex
	m   map[transportKey]*http.Transport
}

func newTransports(cfg OriginConfig) *transports {
	return &transports{cfg: cfg, m: map[transportKey]*http.Transport{}}
}

func (t *transports) get(k transportKey) *http.Transport {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tr, ok := t.m[k]; ok {
		return tr
	}
	idle := t.cfg.IdleConnTimeout
	if k.keepalive > 0 {
		idle = k.keepalive
	}
	d := &net.Dialer{Timeout: k.connect, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		MaxIdleConns:          4 * t.cfg.MaxIdleConnsPerHost,
		MaxIdleConnsPerHost:   t.cfg.MaxIdleConnsPerHost,
		IdleConnTimeout:       idle,
		ResponseHeaderTimeout: k.read,
		TLSHandshakeTimeout:   k.connect,
		TLSClientConfig:       &tls.Config{MinVersion: k.minTLS},
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
	// req is the request as origin-request left it; it is only read. Its
	// Origin (always set) is where it goes.
	req  *edge.Request
	conf *originConf
	// method is req's, or GET for a cacheable HEAD miss.
	method string
	// body is the request body to send (nil: none).
	body io.Reader
	// viewerHost is the Host the viewer sent: a different Host header in
	// req was set by origin-request and is the Host the origin gets.
	viewerHost string
	// cacheable drops the viewer's conditional headers: the cache wants
	// the full object; revalidate holds an expired object's validators.
	cacheable  bool
	revalidate http.Header
}

// sizedBody is a request body of known length (the viewer's
// Content-Length): it reaches the origin with that length, not chunked.
type sizedBody struct {
	io.Reader
	n int64
}

// withLength wraps a body of declared length n (> 0) as a sizedBody; other
// bodies (none, chunked) are returned as they are.
func withLength(body io.Reader, n int64) io.Reader {
	if body == nil || n <= 0 {
		return body
	}
	return sizedBody{body, n}
}

// fetchOrigin is the origin fetch stage: it sends f to the origin its
// request names (the distribution's, or the one a function set) and reads
// the whole response, bounded by MaxResponseBytes.
func (n *Node) fetchOrigin(ctx context.Context, f originFetch) (*originResponse, error) {
	o := f.req.Origin
	target, err := originURL(o, f.req)
	if err != nil {
		return nil, err
	}
	if err := n.cfg.Latency.Wait(ctx, n.cfg.Region, n.originRegion(f.conf, o)); err != nil {
		return nil, fmt.Errorf("origin %s: %w", f.conf.id, err)
	}
	k := n.transportKey(f.conf, o)
	ctx, cancel := context.WithTimeout(ctx, k.connect+2*k.read)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, f.method, target, f.body)
	if err != nil {
		return nil, fmt.Errorf("building origin request: %w", err)
	}
	if sb, ok := f.body.(sizedBody); ok {
		hreq.ContentLength = sb.n
	}
	hreq.Header = n.originHeader(f)
	if h := f.req.Header.Get("Host"); h != "" && h != f.viewerHost {
		hreq.Host = h
	}
	start := time.Now()
	resp, err := n.origins.get(k).RoundTrip(hreq)
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

// originRegion is the region of origin o, where the fetch for oc goes: oc's
// region, unless origin-request moved the request to another host, which
// is placed like an edge.Fetch target (latency.Model.FetchRegion).
func (n *Node) originRegion(oc *originConf, o *edge.Origin) string {
	if o == oc.origin || n.cfg.Latency == nil {
		return oc.region
	}
	if u, err := url.Parse(o.URL()); err == nil {
		if cu, err := url.Parse(oc.origin.URL()); err == nil && u.Host != cu.Host {
			return n.cfg.Latency.FetchRegion(u.Host)
		}
	}
	return oc.region
}

// transportKey is the pool a fetch to o uses: the origin's connect
// timeout, o's read timeout and keep-alive (or the node's defaults) and
// its TLS floor.
func (n *Node) transportKey(oc *originConf, o *edge.Origin) transportKey {
	k := transportKey{connect: oc.connectTimeout, read: n.cfg.Origin.ReadTimeout, minTLS: minTLS(o)}
	if k.connect <= 0 {
		k.connect = n.cfg.Origin.ConnectTimeout
	}
	if c := o.Custom; c != nil {
		if c.ReadTimeout > 0 {
			k.read = c.ReadTimeout
		}
		k.keepalive = c.KeepaliveTimeout
	}
	return k
}

// originURL is the URL req goes to at origin o: o's base URL (protocol,
// domain name, port, path) joined with the request's path and query.
func originURL(o *edge.Origin, req *edge.Request) (string, error) {
	base, err := url.Parse(o.URL())
	if err != nil || base.Host == "" {
		return "", fmt.Errorf("origin %q set by function is invalid", o.URL())
	}
	base.Path = strings.TrimSuffix(base.Path, "/") + req.URI
	base.RawPath = ""
	base.RawQuery = req.QueryString
	return base.String(), nil
}

// dropToOrigin reports whether a request header stays at the edge: hop
// headers, Host (the fetch sets it), Accept-Encoding (objects are cached
// in identity encoding) and Content-Length (the fetch frames the body);
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
// place) without what stays at the edge, plus the origin's custom headers
// (as the distribution set them, or a function changed them), the
// validators, X-Forwarded-For and Via.
func (n *Node) originHeader(f originFetch) http.Header {
	h := make(http.Header, len(f.req.Header)+4)
	for k, vs := range f.req.Header {
		if !dropToOrigin(k, f.cacheable) {
			h[k] = vs
		}
	}
	for k, vs := range f.req.Origin.Headers() {
		h[http.CanonicalHeaderKey(k)] = vs
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
