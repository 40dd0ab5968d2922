package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/edgelab/edgelab/latency"
)

// Header and query names the gateway understands.
const (
	// HeaderViewerRegion names the viewer's region on the incoming request. The
	// gateway sets it on the forwarded request to the region it resolved.
	HeaderViewerRegion = "X-Viewer-Region"
	// QueryViewerRegion is the query parameter alternative to HeaderViewerRegion;
	// it is removed before the request is forwarded.
	QueryViewerRegion = "viewer-region"
	// HeaderSimulateLatency set to "1" asks the gateway to sleep the modelled
	// viewer->edge round trip before forwarding. It is not forwarded.
	HeaderSimulateLatency = "X-Edgelab-Simulate-Latency"
	// HeaderGatewayEdge names, on the response, the edge that served it.
	HeaderGatewayEdge = "X-Edgelab-Gateway-Edge"
	// DefaultHealthPath is the edge-node path answering 200 when the node serves.
	DefaultHealthPath = "/_edgelab/health"
)

// Defaults applied by New for zero Config fields.
const (
	DefaultListenAddr     = "127.0.0.1:8080"
	DefaultRegionName     = "us-east-1"
	DefaultHealthInterval = 250 * time.Millisecond
	DefaultHealthTimeout  = 500 * time.Millisecond
	DefaultDialTimeout    = time.Second
	DefaultMaxAttempts    = 5
	// maxBufferedBody bounds the body of an idempotent request the gateway
	// buffers so it can be retried; larger bodies are forwarded once.
	maxBufferedBody = 64 << 10
	maxRegionLen    = 64
)

// Latencies is the part of a topology the gateway needs: the modelled one-way
// latency between two regions. Implementations must be safe for concurrent
// use; *topology.Topology satisfies it.
type Latencies interface {
	Latency(from, to string) time.Duration
}

// Edge is one edge node the gateway may route to.
type Edge struct {
	// ID names the edge; it is returned in HeaderGatewayEdge. Required, unique.
	ID string `json:"id"`
	// Region is the edge's region, used for latency ordering. Required.
	Region string `json:"region"`
	// PoP is informational.
	PoP string `json:"pop,omitempty"`
	// URL is the edge's HTTP base URL (http://host:port). Required.
	URL string `json:"url"`
}

// EdgeStatus is an Edge with its current health, as shown by GET /_gateway/edges.
type EdgeStatus struct {
	Edge
	Healthy             bool      `json:"healthy"`
	LastError           string    `json:"lastError,omitempty"`
	LastCheck           time.Time `json:"lastCheck,omitzero"`
	LastChange          time.Time `json:"lastChange,omitzero"`
	ConsecutiveFailures int       `json:"consecutiveFailures"`
	Ejections           int64     `json:"ejections"`
}

// Config configures a Gateway. Every zero field takes the default named on it.
type Config struct {
	// ListenAddr is the TCP address Start listens on. Default DefaultListenAddr.
	ListenAddr string
	// Topology orders edges by latency from the viewer's region. Nil: every
	// latency is 0, so edges are used in ID order (rotating among ties).
	Topology Latencies
	// DefaultRegion is the viewer region when the request names none (or an
	// invalid one). Default "us-east-1".
	DefaultRegion string
	// Edges is the initial edge list; SetEdges replaces it later.
	Edges []Edge
	// HealthInterval is the period of active health checks. Default 250ms.
	// Negative disables active checks (passive ejection only; edges then
	// never return: for tests only).
	HealthInterval time.Duration
	// HealthTimeout bounds one health check. Default 500ms.
	HealthTimeout time.Duration
	// HealthPath is requested on every edge by the health checker. Default
	// DefaultHealthPath.
	HealthPath string
	// DialTimeout bounds connecting to an edge. Default 1s.
	DialTimeout time.Duration
	// ResponseHeaderTimeout bounds waiting for an edge's response headers.
	// Zero means no limit (functions and origins may legitimately be slow).
	ResponseHeaderTimeout time.Duration
	// MaxAttempts bounds how many edges one idempotent request tries. Default 5.
	MaxAttempts int
	// AddLatency makes every request sleep the modelled viewer->edge round
	// trip (2 x one-way latency) before it is forwarded, as if the request
	// carried HeaderSimulateLatency: 1.
	AddLatency bool
	// Latency is the data-plane latency model: when set, the modelled
	// viewer->edge round trip (AddLatency, HeaderSimulateLatency) is its
	// RoundTrip(viewer region, edge region), scaled like every other hop.
	// Nil: 2 x Topology's one-way latency.
	Latency *latency.Model
	// Logger receives structured logs. Default: discard.
	Logger *slog.Logger
	// Registerer receives the gateway's metrics. Nil: not registered. When it
	// is also a prometheus.Gatherer, GET /_gateway/metrics serves it.
	Registerer prometheus.Registerer
	// Transport overrides the transport used to reach edges (tests). Nil: a
	// tuned *http.Transport that ignores proxy environment variables.
	Transport http.RoundTripper
}

func (c *Config) applyDefaults() {
	if c.ListenAddr == "" {
		c.ListenAddr = DefaultListenAddr
	}
	if c.DefaultRegion == "" {
		c.DefaultRegion = DefaultRegionName
	}
	if c.HealthInterval == 0 {
		c.HealthInterval = DefaultHealthInterval
	}
	if c.HealthTimeout <= 0 {
		c.HealthTimeout = DefaultHealthTimeout
	}
	if c.HealthPath == "" {
		c.HealthPath = DefaultHealthPath
	}
	if !strings.HasPrefix(c.HealthPath, "/") {
		c.HealthPath = "/" + c.HealthPath
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// edgeState is the gateway's view of one edge. Fields after mu are guarded by it.
type edgeState struct {
	edge Edge
	base *url.URL

	mu                  sync.Mutex
	healthy             bool
	lastError           string
	lastCheck           time.Time
	lastChange          time.Time
	consecutiveFailures int
	ejections           int64
}

func (s *edgeState) isHealthy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.healthy
}

func (s *edgeState) status() EdgeStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return EdgeStatus{
		Edge: s.edge, Healthy: s.healthy, LastError: s.lastError, LastCheck: s.lastCheck,
		LastChange: s.lastChange, ConsecutiveFailures: s.consecutiveFailures, Ejections: s.ejections,
	}
}

// Gateway routes viewers to the nearest healthy edge. Create it with New; it is
// safe for concurrent use.
type Gateway struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	proxy   *httputil.ReverseProxy
	health  *http.Client
	rr      atomic.Uint64 // rotates ties between equally near edges

	mu    sync.RWMutex
	edges []*edgeState

	lifeMu   sync.Mutex
	srv      *http.Server
	ln       net.Listener
	stop     context.CancelFunc
	wg       sync.WaitGroup
	started  bool
	transprt *http.Transport // owned transport, closed on Shutdown; nil when Config.Transport set
}

// New validates cfg, applies defaults and returns a Gateway that is not yet
// listening: call Start, or mount it with Handler and run RunHealthChecks.
func New(cfg Config) (*Gateway, error) {
	cfg.applyDefaults()
	g := &Gateway{cfg: cfg, log: cfg.Logger}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("gateway: registering metrics: %w", err)
	}
	g.metrics = m
	if err := g.SetEdges(cfg.Edges); err != nil {
		return nil, err
	}
	rt := cfg.Transport
	if rt == nil {
		g.transprt = newTransport(cfg)
		rt = g.transprt
	}
	g.proxy = &httputil.ReverseProxy{
		Rewrite:      g.rewrite,
		Transport:    &retryTransport{g: g, next: rt},
		ErrorHandler: g.proxyError,
		ErrorLog:     slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	g.health = &http.Client{
		Transport: newTransport(cfg),
		Timeout:   cfg.HealthTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return g, nil
}

func newTransport(cfg Config) *http.Transport {
	d := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil, // never route edge traffic through HTTP_PROXY
		DialContext:           d.DialContext,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: cfg.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
	}
}

// SetEdges replaces the edge list. Edges whose ID and URL are unchanged keep
// their health; new edges start healthy (optimistic) until a check or a
// connection says otherwise. It returns an error, and changes nothing, when an
// edge lacks an ID, region or valid http(s) URL, or when IDs repeat.
func (g *Gateway) SetEdges(edges []Edge) error {
	next := make([]*edgeState, 0, len(edges))
	seen := make(map[string]bool, len(edges))
	for _, e := range edges {
		if e.ID == "" || e.Region == "" {
			return fmt.Errorf("gateway: edge %q: id and region are required", e.ID)
		}
		if seen[e.ID] {
			return fmt.Errorf("gateway: duplicate edge id %q", e.ID)
		}
		seen[e.ID] = true
		u, err := url.Parse(e.URL)
		if err != nil {
			return fmt.Errorf("gateway: edge %q: parsing url: %w", e.ID, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("gateway: edge %q: url %q must be http(s)://host[:port]", e.ID, e.URL)
		}
		next = append(next, &edgeState{edge: e, base: u, healthy: true, lastChange: time.Now()})
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	old := make(map[string]*edgeState, len(g.edges))
	for _, s := range g.edges {
		old[s.edge.ID] = s
	}
	for i, s := range next {
		if o, ok := old[s.edge.ID]; ok && o.edge == s.edge {
			next[i] = o
		}
	}
	for id := range old {
		if !seen[id] {
			g.metrics.forget(id)
		}
	}
	g.edges = next
	for _, s := range next {
		g.metrics.setHealthy(s.edge.ID, s.isHealthy())
	}
	return nil
}

// Edges returns every edge with its health, in ID order.
func (g *Gateway) Edges() []EdgeStatus {
	g.mu.RLock()
	out := make([]EdgeStatus, 0, len(g.edges))
	for _, s := range g.edges {
		out = append(out, s.status())
	}
	g.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Handler returns the gateway's HTTP handler (admin endpoints + proxy).
func (g *Gateway) Handler() http.Handler { return http.HandlerFunc(g.ServeHTTP) }

// ServeHTTP serves the admin endpoints under /_gateway/ and proxies anything
// else to the nearest healthy edge.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_gateway/") {
		g.serveAdmin(w, r)
		return
	}
	region := g.viewerRegion(r)
	cands := g.candidates(region)
	if len(cands) == 0 {
		g.metrics.requests.WithLabelValues("", "503").Inc()
		http.Error(w, "edgelab gateway: no edge configured", http.StatusServiceUnavailable)
		return
	}
	plan := &routePlan{region: region, candidates: cands, retryable: isIdempotent(r.Method)}
	if plan.retryable && !bufferBody(r) {
		plan.retryable = false
	}
	if g.cfg.AddLatency || r.Header.Get(HeaderSimulateLatency) == "1" {
		plan.simulate = true
	}
	r = r.WithContext(context.WithValue(r.Context(), planKey{}, plan))
	g.proxy.ServeHTTP(w, r)
}

func (g *Gateway) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/_gateway/edges":
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(g.Edges()); err != nil {
			g.log.Debug("writing edges", "err", err)
		}
	case "/_gateway/health":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	case "/_gateway/metrics":
		if gth, ok := g.cfg.Registerer.(prometheus.Gatherer); ok {
			promhttp.HandlerFor(gth, promhttp.HandlerOpts{}).ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	default:
		http.NotFound(w, r)
	}
}

// viewerRegion resolves the viewer region: header, then query, then default.
// Values that do not look like a region name fall back to the default.
func (g *Gateway) viewerRegion(r *http.Request) string {
	if v := r.Header.Get(HeaderViewerRegion); g.knownRegion(v) {
		return v
	}
	if v := queryValue(r.URL.RawQuery, QueryViewerRegion); g.knownRegion(v) {
		return v
	}
	return g.cfg.DefaultRegion
}

// regionChecker is implemented by topologies that know their region names
// (*topology.Topology does); unknown regions then fall back to the default.
type regionChecker interface {
	HasRegion(region string) bool
}

func (g *Gateway) knownRegion(v string) bool {
	if !validRegion(v) {
		return false
	}
	if rc, ok := g.cfg.Topology.(regionChecker); ok {
		return rc.HasRegion(v)
	}
	return true
}

func validRegion(s string) bool {
	if s == "" || len(s) > maxRegionLen {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// queryValue returns the first value of key in a raw query without
// re-encoding the rest of it.
func queryValue(raw, key string) string {
	for part := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil && uk == key {
			if uv, err := url.QueryUnescape(v); err == nil {
				return uv
			}
			return ""
		}
	}
	return ""
}

// stripQuery removes every key parameter from a raw query, keeping the order
// and the encoding of the others (they may be part of a cache key).
func stripQuery(raw, key string) string {
	if raw == "" || !strings.Contains(raw, key[:1]) {
		return raw
	}
	parts := strings.Split(raw, "&")
	kept := parts[:0]
	for _, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if uk, err := url.QueryUnescape(k); err == nil && uk == key {
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "&")
}

// candidates returns the edges to try, nearest first: healthy ones, or, when
// none is healthy, all of them (health may be stale; trying beats refusing).
// Edges at equal latency rotate per request so one region's edges share load.
func (g *Gateway) candidates(region string) []*edgeState {
	g.mu.RLock()
	all := make([]*edgeState, len(g.edges))
	copy(all, g.edges)
	g.mu.RUnlock()
	healthy := all[:0:0]
	for _, s := range all {
		if s.isHealthy() {
			healthy = append(healthy, s)
		}
	}
	if len(healthy) == 0 {
		healthy = all
	}
	type ranked struct {
		s   *edgeState
		lat time.Duration
	}
	rs := make([]ranked, len(healthy))
	for i, s := range healthy {
		rs[i] = ranked{s: s, lat: g.latency(region, s.edge.Region)}
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].lat != rs[j].lat {
			return rs[i].lat < rs[j].lat
		}
		return rs[i].s.edge.ID < rs[j].s.edge.ID
	})
	n := g.rr.Add(1)
	out := make([]*edgeState, 0, len(rs))
	for i := 0; i < len(rs); {
		j := i
		for j < len(rs) && rs[j].lat == rs[i].lat {
			j++
		}
		size := j - i
		off := int(n % uint64(size))
		for k := range size {
			out = append(out, rs[i+(off+k)%size].s)
		}
		i = j
	}
	return out
}

func (g *Gateway) latency(from, to string) time.Duration {
	if g.cfg.Topology == nil {
		return 0
	}
	return g.cfg.Topology.Latency(from, to)
}

func isIdempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

// bufferBody makes r's body replayable (GetBody) when it is small; it reports
// whether the request can be sent more than once.
func bufferBody(r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	if r.ContentLength > maxBufferedBody {
		return false
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, maxBufferedBody+1))
	if err != nil || len(buf) > maxBufferedBody {
		// Too large (or broken): forward what was read followed by the rest, once.
		r.Body = readCloser{Reader: io.MultiReader(bytes.NewReader(buf), r.Body), Closer: r.Body}
		return false
	}
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(buf))
	r.ContentLength = int64(len(buf))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	return true
}

type readCloser struct {
	io.Reader
	io.Closer
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// rewrite prepares the outbound request; the edge URL is chosen per attempt
// by retryTransport.
func (g *Gateway) rewrite(pr *httputil.ProxyRequest) {
	pr.SetXForwarded()
	pr.Out.Host = pr.In.Host // distributions match on the viewer's Host
	pr.Out.URL.RawQuery = stripQuery(pr.In.URL.RawQuery, QueryViewerRegion)
	pr.Out.Header.Del(HeaderSimulateLatency)
	if p, ok := pr.In.Context().Value(planKey{}).(*routePlan); ok {
		pr.Out.Header.Set(HeaderViewerRegion, p.region)
	}
}

func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusBadGateway
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		code = 499 // viewer went away; nobody reads this
	}
	g.metrics.requests.WithLabelValues("", fmt.Sprint(code)).Inc()
	g.log.Warn("proxying failed", "method", r.Method, "path", r.URL.Path, "err", err)
	if code == 499 {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = fmt.Fprintf(w, "edgelab gateway: no edge could serve the request: %v\n", err)
}

// markFailed ejects an edge after a failed health check or connection.
func (g *Gateway) markFailed(s *edgeState, source string, err error, started time.Time) {
	s.mu.Lock()
	if source == "active" && started.Before(s.lastChange) {
		s.mu.Unlock()
		return // stale result from before the last state change
	}
	s.lastError = err.Error()
	s.consecutiveFailures++
	was := s.healthy
	if was {
		s.healthy = false
		s.ejections++
		s.lastChange = time.Now()
	}
	s.mu.Unlock()
	if was {
		g.metrics.ejections.WithLabelValues(s.edge.ID, source).Inc()
		g.metrics.setHealthy(s.edge.ID, false)
		g.log.Warn("edge ejected", "edge", s.edge.ID, "source", source, "err", err)
	}
}

func (g *Gateway) markHealthy(s *edgeState, started time.Time) {
	s.mu.Lock()
	s.lastCheck = time.Now()
	if started.Before(s.lastChange) {
		s.mu.Unlock()
		return
	}
	s.consecutiveFailures = 0
	was := s.healthy
	if !was {
		s.healthy = true
		s.lastError = ""
		s.lastChange = time.Now()
	}
	s.mu.Unlock()
	if !was {
		g.metrics.setHealthy(s.edge.ID, true)
		g.log.Info("edge back in rotation", "edge", s.edge.ID)
	}
}

// Start listens on Config.ListenAddr and serves in the background, with the
// health checker running. Stop it with Shutdown.
func (g *Gateway) Start() error {
	g.lifeMu.Lock()
	defer g.lifeMu.Unlock()
	if g.started {
		return errors.New("gateway: already started")
	}
	ln, err := net.Listen("tcp", g.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("gateway: listening on %s: %w", g.cfg.ListenAddr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.ln, g.stop, g.started = ln, cancel, true
	g.srv = &http.Server{
		Handler:           g,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
	}
	g.wg.Add(2)
	go func() {
		defer g.wg.Done()
		g.RunHealthChecks(ctx)
	}()
	go func() {
		defer g.wg.Done()
		if err := g.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.log.Error("gateway server stopped", "err", err)
		}
	}()
	g.log.Info("gateway listening", "addr", ln.Addr().String())
	return nil
}

// Addr is the listening address after Start, or nil.
func (g *Gateway) Addr() net.Addr {
	g.lifeMu.Lock()
	defer g.lifeMu.Unlock()
	if g.ln == nil {
		return nil
	}
	return g.ln.Addr()
}

// Shutdown stops accepting requests, waits for in-flight ones (bounded by
// ctx), stops the health checker and closes idle edge connections.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.lifeMu.Lock()
	srv, stop := g.srv, g.stop
	g.lifeMu.Unlock()
	var err error
	if srv != nil {
		if err = srv.Shutdown(ctx); err != nil {
			err = fmt.Errorf("gateway: shutting down server: %w", err)
			_ = srv.Close()
		}
	}
	if stop != nil {
		stop()
	}
	g.wg.Wait()
	if g.transprt != nil {
		g.transprt.CloseIdleConnections()
	}
	g.health.CloseIdleConnections()
	return err
}

// Run starts the gateway and blocks until ctx is done, then shuts it down
// (in-flight requests get 5 seconds).
func (g *Gateway) Run(ctx context.Context) error {
	if err := g.Start(); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return g.Shutdown(sctx)
}

// RunHealthChecks checks every edge each Config.HealthInterval until ctx is
// done. Start runs it; call it yourself only when serving Handler elsewhere.
func (g *Gateway) RunHealthChecks(ctx context.Context) {
	if g.cfg.HealthInterval < 0 {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(g.cfg.HealthInterval)
	defer t.Stop()
	for {
		g.checkAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (g *Gateway) checkAll(ctx context.Context) {
	g.mu.RLock()
	edges := make([]*edgeState, len(g.edges))
	copy(edges, g.edges)
	g.mu.RUnlock()
	var wg sync.WaitGroup
	for _, s := range edges {
		wg.Go(func() { g.check(ctx, s) })
	}
	wg.Wait()
}

func (g *Gateway) check(ctx context.Context, s *edgeState) {
	started := time.Now()
	u := s.base.JoinPath(g.cfg.HealthPath)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		g.markFailed(s, "active", err, started)
		return
	}
	resp, err := g.health.Do(req)
	if ctx.Err() != nil {
		if resp != nil {
			_ = resp.Body.Close()
		}
		return // shutting down: no verdict
	}
	if err != nil {
		s.mu.Lock()
		s.lastCheck = time.Now()
		s.mu.Unlock()
		g.markFailed(s, "active", fmt.Errorf("health check: %w", err), started)
		return
	}
	drain(resp)
	if resp.StatusCode != http.StatusOK {
		s.mu.Lock()
		s.lastCheck = time.Now()
		s.mu.Unlock()
		g.markFailed(s, "active", fmt.Errorf("health check: status %d", resp.StatusCode), started)
		return
	}
	g.markHealthy(s, started)
}
