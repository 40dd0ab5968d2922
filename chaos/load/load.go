// Package load is the chaos load generator: it sends viewer requests to one
// base URL (the gateway, or an edge) at a fixed rate, bounded both in count
// and in time, and records what each response said (history.Request).
//
//	Run ──limiter.Wait──▶ slot (≤ Concurrency in flight) ──▶ GET base+path
//	                                                         X-Viewer-Region: r
//	                                                         Host: cfg.Host
//	                       records ◀── status, X-Cache, X-Edgelab-* headers
//
// It never follows redirects and never sends a request anywhere but the base
// URL, and by default refuses a base URL that is not loopback, so a scenario
// file cannot turn it into a load tool against someone else's host.
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/edgelab/edgelab/chaos/history"
	"github.com/edgelab/edgelab/origin"
)

// Defaults applied by New for zero Config fields.
const (
	DefaultConcurrency = 64
	DefaultTimeout     = 10 * time.Second
	DefaultMethod      = http.MethodGet
	// MaxRequestsLimit and MaxDurationLimit bound a single run.
	MaxRequestsLimit = 1_000_000
	MaxDurationLimit = time.Hour
	// maxBody is how much of each response body is read (and discarded).
	maxBody = 1 << 20
)

// Config configures a Generator. URL, Rate, MaxRequests and Duration are required.
type Config struct {
	// URL is the base URL every request goes to; paths are appended to it.
	URL string
	// Host overrides the Host header (the distribution's domain). "" keeps the URL's host.
	Host string
	// Rate is requests per second, > 0.
	Rate float64
	// MaxRequests bounds the number of requests sent, > 0.
	MaxRequests int
	// Duration bounds the time spent sending, > 0. Requests in flight when
	// it ends complete (within Timeout) and are recorded.
	Duration time.Duration
	// Paths are request paths (each starts with "/"); default ["/"].
	Paths []string
	// ViewerRegions are sent as X-Viewer-Region in rotation; empty sends none.
	ViewerRegions []string
	// Method is the HTTP method; default GET. Methods, when set, replaces
	// it with a rotation (e.g. GET, GET, POST): request i uses
	// Methods[i % len(Methods)].
	Method  string
	Methods []string
	// IDPrefix starts every request's unique id (sent as
	// X-Edgelab-Chaos-Id, recorded in history.Request.ID); default "r".
	IDPrefix string
	// Concurrency bounds requests in flight; default DefaultConcurrency.
	Concurrency int
	// Timeout bounds one request; default DefaultTimeout.
	Timeout time.Duration
	// AllowRemote permits a base URL whose host is not loopback.
	AllowRemote bool
	// Transport is the round tripper; nil means a private http.Transport.
	Transport http.RoundTripper
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Generator sends one bounded run of load. It is not safe for concurrent
// use: call Run once at a time.
type Generator struct {
	cfg    Config
	base   *url.URL
	client *http.Client
	owned  *http.Transport
}

// New validates cfg, applies defaults and returns a Generator.
func New(cfg Config) (*Generator, error) {
	if cfg.Rate <= 0 {
		return nil, errors.New("load: rate must be > 0 requests per second")
	}
	if cfg.MaxRequests <= 0 || cfg.Duration <= 0 {
		return nil, fmt.Errorf("load: unbounded run refused: need both maxRequests > 0 (got %d) and duration > 0 (got %s)", cfg.MaxRequests, cfg.Duration)
	}
	if cfg.MaxRequests > MaxRequestsLimit || cfg.Duration > MaxDurationLimit {
		return nil, fmt.Errorf("load: run too large: at most %d requests and %s", MaxRequestsLimit, MaxDurationLimit)
	}
	base, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("load: base URL: %w", err)
	}
	if (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("load: base URL %q: want http(s)://host[:port]", cfg.URL)
	}
	if base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("load: base URL %q: no user info, query or fragment allowed", cfg.URL)
	}
	if !cfg.AllowRemote && !isLoopback(base.Hostname()) {
		return nil, fmt.Errorf("load: base URL host %q is not loopback (set AllowRemote to target it)", base.Hostname())
	}
	if len(cfg.Paths) == 0 {
		cfg.Paths = []string{"/"}
	}
	for _, p := range cfg.Paths {
		if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, " \r\n#") {
			return nil, fmt.Errorf("load: path %q: want an absolute path starting with a single /", p)
		}
	}
	if cfg.Method == "" {
		cfg.Method = DefaultMethod
	}
	if len(cfg.Methods) == 0 {
		cfg.Methods = []string{cfg.Method}
	}
	for _, m := range cfg.Methods {
		if !allowedMethods[m] {
			return nil, fmt.Errorf("load: method %q: want GET, HEAD, POST, PUT or DELETE", m)
		}
	}
	if cfg.IDPrefix == "" {
		cfg.IDPrefix = "r"
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	g := &Generator{cfg: cfg, base: base}
	rt := cfg.Transport
	if rt == nil {
		g.owned = &http.Transport{MaxIdleConnsPerHost: cfg.Concurrency, DisableCompression: true}
		rt = g.owned
	}
	g.client = &http.Client{
		Transport: rt,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return g, nil
}

var allowedMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true, http.MethodDelete: true,
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Run sends load until MaxRequests were sent, Duration elapsed or ctx is
// done, waits for requests in flight, and returns every record sorted by
// start time. It returns ctx's error if ctx ended the run early.
func (g *Generator) Run(ctx context.Context) ([]history.Request, error) {
	if g.owned != nil {
		defer g.owned.CloseIdleConnections()
	}
	sendCtx, cancel := context.WithTimeout(ctx, g.cfg.Duration)
	defer cancel()
	lim := rate.NewLimiter(rate.Limit(g.cfg.Rate), 1)
	slots := make(chan struct{}, g.cfg.Concurrency)
	var (
		mu   sync.Mutex
		recs = make([]history.Request, 0, min(g.cfg.MaxRequests, 4096))
		wg   sync.WaitGroup
	)
loop:
	for i := 0; i < g.cfg.MaxRequests; i++ {
		if err := lim.Wait(sendCtx); err != nil {
			break // duration over (or ctx done)
		}
		select {
		case slots <- struct{}{}:
		case <-sendCtx.Done():
			break loop
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-slots }()
			rec := g.do(ctx, i)
			mu.Lock()
			recs = append(recs, rec)
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Start.Before(recs[j].Start) })
	return recs, ctx.Err()
}

// do sends request number i and records it.
func (g *Generator) do(ctx context.Context, i int) history.Request {
	path := g.cfg.Paths[i%len(g.cfg.Paths)]
	rec := history.Request{Method: g.cfg.Methods[i%len(g.cfg.Methods)], Path: path, ID: g.cfg.IDPrefix + "-" + strconv.Itoa(i)}
	if n := len(g.cfg.ViewerRegions); n > 0 {
		rec.ViewerRegion = g.cfg.ViewerRegions[(i/len(g.cfg.Paths))%n]
	}
	u := *g.base
	u.Path = strings.TrimSuffix(g.base.Path, "/") + path
	u.RawPath = ""
	rec.Start = g.cfg.Now()
	var body io.Reader
	if rec.Method == http.MethodPost || rec.Method == http.MethodPut {
		body = strings.NewReader(rec.ID) // small and replayable: a retry could resend it
	}
	req, err := http.NewRequestWithContext(ctx, rec.Method, u.String(), body)
	if err != nil {
		rec.Err = fmt.Sprintf("building request: %v", err)
		rec.End = g.cfg.Now()
		return rec
	}
	if g.cfg.Host != "" {
		req.Host = g.cfg.Host
	}
	if rec.ViewerRegion != "" {
		req.Header.Set(history.HeaderViewerRegion, rec.ViewerRegion)
	}
	req.Header.Set(history.HeaderChaosID, rec.ID)
	if body != nil {
		req.Header.Set("Content-Type", origin.IDContentType)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		rec.Err = err.Error()
		rec.End = g.cfg.Now()
		return rec
	}
	defer resp.Body.Close()
	rec.FillFromResponse(resp.StatusCode, resp.Header)
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody)); err != nil {
		rec.Err = fmt.Sprintf("reading body: %v", err)
	}
	rec.End = g.cfg.Now()
	return rec
}
