package edgenode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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

// fetchOrigin sends req to oc (or to the origin URL a function set) and
// reads the whole response, bounded by MaxResponseBytes. body is the
// request body to send (nil for none).
func (n *Node) fetchOrigin(ctx context.Context, req *edge.Request, oc *originConf, body io.Reader, extra http.Header) (*originResponse, error) {
	base := oc.base
	if req.Origin != nil && req.Origin.URL != "" && req.Origin.URL != oc.base.String() {
		u, err := url.Parse(req.Origin.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("origin URL %q set by function is invalid", req.Origin.URL)
		}
		base = u
	}
	connect, read := oc.connectTimeout, oc.readTimeout
	if connect <= 0 {
		connect = n.cfg.Origin.ConnectTimeout
	}
	if read <= 0 {
		read = n.cfg.Origin.ReadTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, connect+2*read)
	defer cancel()

	target := *base
	target.Path = strings.TrimSuffix(base.Path, "/") + req.URI
	target.RawPath = ""
	target.RawQuery = req.QueryString
	hreq, err := http.NewRequestWithContext(ctx, req.Method, target.String(), body)
	if err != nil {
		return nil, fmt.Errorf("building origin request: %w", err)
	}
	h := req.Header.Clone()
	for _, k := range hopHeaders {
		h.Del(k)
	}
	for k := range h {
		if disallowedHeader(k) {
			delete(h, k)
		}
	}
	h.Del("Host")
	h.Del("Accept-Encoding")
	h.Del("Content-Length")
	for k, v := range oc.customHeaders {
		h.Set(k, v)
	}
	if req.Origin != nil {
		for k, vs := range req.Origin.CustomHeaders {
			h[http.CanonicalHeaderKey(k)] = vs
		}
	}
	for k, vs := range extra {
		h[k] = vs
	}
	if req.ClientIP != "" {
		if prior := h.Get("X-Forwarded-For"); prior != "" {
			h.Set("X-Forwarded-For", prior+", "+req.ClientIP)
		} else {
			h.Set("X-Forwarded-For", req.ClientIP)
		}
	}
	h.Add("Via", "1.1 "+n.cfg.NodeID+" (edgelab)")
	hreq.Header = h

	start := time.Now()
	resp, err := n.origins.get(connect, read).RoundTrip(hreq)
	if err != nil {
		n.metrics.originDur.WithLabelValues(oc.id, "error").Observe(time.Since(start).Seconds())
		return nil, fmt.Errorf("origin %s: %w", oc.id, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, n.cfg.Origin.MaxResponseBytes+1))
	if err == nil && int64(len(data)) > n.cfg.Origin.MaxResponseBytes {
		err = fmt.Errorf("response larger than %d bytes", n.cfg.Origin.MaxResponseBytes)
	}
	if err == nil && resp.ContentLength >= 0 && int64(len(data)) != resp.ContentLength && req.Method != http.MethodHead {
		err = fmt.Errorf("short body: %d of %d bytes: %w", len(data), resp.ContentLength, io.ErrUnexpectedEOF)
	}
	if err != nil {
		n.metrics.originDur.WithLabelValues(oc.id, "error").Observe(time.Since(start).Seconds())
		return nil, fmt.Errorf("origin %s: reading body: %w", oc.id, err)
	}
	n.metrics.originDur.WithLabelValues(oc.id, "ok").Observe(time.Since(start).Seconds())
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
