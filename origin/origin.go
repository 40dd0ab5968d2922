package origin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edgelab/edgelab/internal/adminauth"
)

// Config configures a Server.
type Config struct {
	// ListenAddr is the address to listen on. Default "127.0.0.1:0".
	ListenAddr string
	// ID is sent as X-Origin-Id. Default "origin".
	ID string
	// Logger receives logs. Default slog.Default().
	Logger *slog.Logger
	// MaxObjectBytes bounds /objects/<size>. Default 64 MiB.
	MaxObjectBytes int64
	// MaxReceipts bounds the recorded request ids (GET /_admin/receipts).
	// Default DefaultMaxReceipts.
	MaxReceipts int
	// AdminToken, when set, is the bearer token every /_admin/ request must
	// carry (adminauth.Protect). Empty: none, but cross-site requests and
	// bodies that are not application/json are refused either way.
	AdminToken string
	// S3Buckets, when set, turns on S3 mode (s3.go): the origin answers as
	// an S3 endpoint serving these buckets instead of the content routes.
	S3Buckets []string
}

// Fault is a runtime failure knob.
type Fault struct {
	// Path is the path prefix it applies to ("" = every path).
	Path string `json:"path"`
	// Latency delays every matching answer (Go duration, e.g. "200ms").
	Latency Duration `json:"latency"`
	// ErrorRate in [0,1]: the probability of answering Status instead.
	ErrorRate float64 `json:"errorRate"`
	// Status answered for errors. Default 503.
	Status int `json:"status"`
	// Outage drops matching connections without an answer.
	Outage bool `json:"outage"`
	// ResetBody sends the headers and half of the body, then resets the connection.
	ResetBody bool `json:"resetBody"`
}

// Duration is a time.Duration that reads and writes JSON as "200ms" (or nanoseconds).
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "200ms" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("latency: %w", err)
		}
		*d = Duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("latency: want \"200ms\" or nanoseconds")
	}
	*d = Duration(n)
	return nil
}

// Server is a sample origin. Safe for concurrent use.
type Server struct {
	cfg    Config
	ln     net.Listener
	srv    *http.Server
	mu     sync.RWMutex
	faults map[string]Fault
	recv   *receipts
	reqs   *requestLog
	admin  http.Handler // serveAdmin behind adminauth.Protect
	once   sync.Once
	s3     *s3Store // nil unless S3 mode
}

// New binds the listener; call Run to serve.
func New(cfg Config) (*Server, error) {
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:0"
	}
	if cfg.ID == "" {
		cfg.ID = "origin"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxObjectBytes <= 0 {
		cfg.MaxObjectBytes = 64 << 20
	}
	if cfg.MaxReceipts <= 0 {
		cfg.MaxReceipts = DefaultMaxReceipts
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("origin: listen %s: %w", cfg.ListenAddr, err)
	}
	s := &Server{cfg: cfg, ln: ln, faults: map[string]Fault{}, recv: &receipts{max: cfg.MaxReceipts}, reqs: &requestLog{max: DefaultMaxRequests}, s3: newS3Store(cfg.ID, cfg.S3Buckets)}
	s.admin = adminauth.Protect(cfg.AdminToken, http.HandlerFunc(s.serveAdmin))
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

// Addr is the listen address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is "http://" + Addr().
func (s *Server) URL() string { return "http://" + s.Addr() }

// Run serves until ctx is done or Close is called.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("origin: serve: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.srv.Shutdown(sctx)
		<-errc
		if err != nil {
			return fmt.Errorf("origin: shutdown: %w", err)
		}
		return nil
	}
}

// Close stops the server and closes its connections.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		err = s.srv.Close()
		_ = s.ln.Close()
	})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// SetFault installs (or replaces) the fault for f.Path.
func (s *Server) SetFault(f Fault) error {
	if f.ErrorRate < 0 || f.ErrorRate > 1 {
		return fmt.Errorf("errorRate %v outside [0,1]", f.ErrorRate)
	}
	if f.Status == 0 {
		f.Status = http.StatusServiceUnavailable
	}
	if f.Status < 100 || f.Status > 599 {
		return fmt.Errorf("status %d outside 100-599", f.Status)
	}
	if f.Latency < 0 {
		return fmt.Errorf("negative latency")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[f.Path] = f
	return nil
}

// Heal removes the fault for path, or all faults when all is true.
func (s *Server) Heal(path string, all bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if all {
		clear(s.faults)
		return
	}
	delete(s.faults, path)
}

// Faults returns the active faults sorted by path.
func (s *Server) Faults() []Fault {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Fault, 0, len(s.faults))
	for _, f := range s.faults {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func (s *Server) faultFor(p string) (Fault, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var best Fault
	found := false
	for prefix, f := range s.faults {
		if strings.HasPrefix(p, prefix) && (!found || len(prefix) > len(best.Path)) {
			best, found = f, true
		}
	}
	return best, found
}

// ServeHTTP implements the routes in the package doc.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Origin-Id", s.cfg.ID)
	if strings.HasPrefix(r.URL.Path, "/_admin/") {
		s.admin.ServeHTTP(w, r)
		return
	}
	now := time.Now()
	s.reqs.add(RequestRecord{Time: now, Method: r.Method, URI: r.URL.RequestURI(), Via: strings.Join(r.Header.Values("Via"), ", ")})
	if id := requestID(r); id != "" {
		// Recorded on arrival, before any fault: a request that reached the
		// origin counts even when the answer is delayed or dropped.
		s.recv.add(Receipt{ID: id, Origin: s.cfg.ID, Method: r.Method, Path: r.URL.Path, Time: now})
	}
	w.Header().Set(HeaderTime, now.UTC().Format(time.RFC3339Nano))
	f, faulty := s.faultFor(r.URL.Path)
	if faulty {
		if f.Latency > 0 {
			t := time.NewTimer(time.Duration(f.Latency))
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if f.Outage {
			hijackClose(w)
			return
		}
		if f.ErrorRate > 0 && rand.Float64() < f.ErrorRate {
			http.Error(w, fmt.Sprintf("origin %s: injected %d", s.cfg.ID, f.Status), f.Status)
			return
		}
	}
	status, body := s.route(w, r)
	if status == 0 {
		return
	}
	if faulty && f.ResetBody && len(body) > 1 {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body[:len(body)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		hijackClose(w)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func hijackClose(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // RST, not FIN
	}
	_ = conn.Close()
}

// route returns the status and body for the content routes; status 0 means
// the response was already written.
func (s *Server) route(w http.ResponseWriter, r *http.Request) (int, []byte) {
	if s.s3 != nil {
		return s.s3Route(w, r)
	}
	h := w.Header()
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/objects/"):
		n, err := parseSize(strings.TrimPrefix(p, "/objects/"))
		if err != nil || n > s.cfg.MaxObjectBytes {
			return http.StatusBadRequest, []byte("bad size\n")
		}
		if cc := r.URL.Query().Get("cc"); cc != "" {
			h.Set("Cache-Control", cc)
		}
		h.Set("Content-Type", "application/octet-stream")
		h.Set("ETag", fmt.Sprintf("%q", fmt.Sprintf("%s-%d", s.cfg.ID, n)))
		body := make([]byte, n)
		for i := range body {
			body[i] = 'a' + byte(i%26)
		}
		return http.StatusOK, body
	case strings.HasPrefix(p, "/static/"):
		ext := path.Ext(p)
		switch ext {
		case ".css", ".js":
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		case ".png", ".jpg", ".svg":
			h.Set("Cache-Control", "public, max-age=86400")
		case ".html":
			h.Set("Cache-Control", "public, max-age=60, s-maxage=300")
		case ".json":
			h.Set("Cache-Control", "no-cache")
		case ".txt":
			h.Set("Expires", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
		case ".private":
			h.Set("Cache-Control", "private, max-age=600")
		case ".nostore":
			h.Set("Cache-Control", "no-store")
		}
		h.Set("Content-Type", "text/plain; charset=utf-8")
		return http.StatusOK, fmt.Appendf(nil, "static %s from %s\n", p, s.cfg.ID)
	case strings.HasPrefix(p, "/gen/"):
		cc := r.URL.Query().Get("cc")
		if cc == "" {
			cc = "no-cache"
		}
		h.Set("Cache-Control", cc)
		h.Set("Content-Type", "text/html; charset=utf-8")
		return http.StatusOK, fmt.Appendf(nil, "<html><body><h1>%s</h1><p>generated by %s at %s</p></body></html>\n",
			htmlEscape(p), s.cfg.ID, time.Now().UTC().Format(time.RFC3339Nano))
	case p == "/echo" || strings.HasPrefix(p, "/echo/"):
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err != nil {
			return http.StatusBadRequest, []byte("reading body failed\n")
		}
		out, _ := json.Marshal(Echo{Method: r.Method, Path: p, Query: r.URL.RawQuery, Host: r.Host, Headers: r.Header, Body: string(body), Origin: s.cfg.ID})
		h.Set("Content-Type", "application/json")
		if cc := r.URL.Query().Get("cc"); cc != "" {
			h.Set("Cache-Control", cc)
		} else {
			h.Set("Cache-Control", "no-store")
		}
		return http.StatusOK, append(out, '\n')
	case strings.HasPrefix(p, "/status/"):
		code, err := strconv.Atoi(strings.TrimPrefix(p, "/status/"))
		if err != nil || code < 200 || code > 599 {
			return http.StatusBadRequest, []byte("bad status\n")
		}
		if cc := r.URL.Query().Get("cc"); cc != "" {
			h.Set("Cache-Control", cc)
		}
		if code == http.StatusNoContent || code == http.StatusNotModified {
			w.WriteHeader(code)
			return 0, nil
		}
		return code, fmt.Appendf(nil, "status %d from %s\n", code, s.cfg.ID)
	case strings.HasPrefix(p, "/api/"):
		// A small JSON API: cacheable for a minute, names the user the
		// viewer-request JWT check forwarded in X-User.
		out, _ := json.Marshal(map[string]string{"path": p, "query": r.URL.RawQuery, "user": r.Header.Get("X-User"), "origin": s.cfg.ID})
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "max-age=60")
		return http.StatusOK, append(out, '\n')
	case p == "/":
		return http.StatusOK, fmt.Appendf(nil, "edgelab sample origin %s\n", s.cfg.ID)
	}
	return http.StatusNotFound, []byte("not found\n")
}

// Echo is the JSON body of /echo.
type Echo struct {
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	Query   string      `json:"query"`
	Host    string      `json:"host"`
	Headers http.Header `json:"headers"`
	Body    string      `json:"body"`
	Origin  string      `json:"origin"`
}

// serveAdmin serves the /_admin/ routes (behind s.admin's checks).
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_admin/receipts" {
		s.adminReceipts(w, r)
		return
	}
	if r.URL.Path == "/_admin/requests" {
		s.adminRequests(w, r)
		return
	}
	if r.URL.Path != "/_admin/faults" {
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Faults())
	case http.MethodPost, http.MethodPut:
		var f Fault
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			http.Error(w, "bad fault JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.SetFault(f); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.cfg.Logger.Info("fault set", "origin", s.cfg.ID, "path", f.Path, "latency", time.Duration(f.Latency),
			"errorRate", f.ErrorRate, "status", f.Status, "outage", f.Outage, "resetBody", f.ResetBody)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		p, one := r.URL.Query()["path"]
		if one {
			s.Heal(p[0], false)
		} else {
			s.Heal("", true)
		}
		s.cfg.Logger.Info("faults healed", "origin", s.cfg.ID)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// Receipts returns the recorded request ids, in arrival order.
func (s *Server) Receipts() ReceiptLog { return s.recv.snapshot() }

func (s *Server) adminReceipts(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.recv.snapshot())
	case http.MethodDelete:
		s.recv.reset()
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// parseSize reads "1024", "4k", "2m".
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "m"), strings.HasSuffix(s, "M"):
		mult, s = 1<<20, s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
