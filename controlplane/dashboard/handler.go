package dashboard

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

//go:embed assets
var assets embed.FS

// Views are the page's views; each is served at "/<view>".
var Views = []string{"network", "rollout", "traffic", "functions", "chaos"}

// maxBody bounds a POST body.
const maxBody = 16 << 10

// Handler serves the dashboard:
//
//	GET  /, /network, /rollout, /traffic, /functions, /chaos   the page
//	GET  /assets/...                                        embedded CSS, JS, SVG
//	GET  /api/state                                         State as JSON
//	GET  /api/{network,rollouts,traffic,functions,chaos,logs,replicas}  one part
//	GET  /api/events                                        Server-Sent Events: "state" per round
//	POST /api/chaos/inject, /api/chaos/heal                 JSON in and out
//
// POSTs are refused when they come from another origin (Sec-Fetch-Site /
// Origin, http.CrossOriginProtection) or are not application/json (which a
// cross-site form cannot send).
func Handler(h *Hub) http.Handler {
	mux := http.NewServeMux()
	page := http.HandlerFunc(servePage)
	mux.Handle("GET /{$}", page)
	for _, v := range Views {
		mux.Handle("GET /"+v, page)
	}
	static, _ := fs.Sub(assets, "assets")
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(static)))
	mux.HandleFunc("GET /api/events", h.serveEvents)
	mux.HandleFunc("GET /api/{part}", h.serveJSON)
	mux.HandleFunc("POST /api/chaos/inject", h.serveInject)
	mux.HandleFunc("POST /api/chaos/heal", h.serveHeal)
	csrf := http.NewCrossOriginProtection()
	return securityHeaders(csrf.Handler(requireJSON(mux)))
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		// connect-src allows http: so that the page can probe the other
		// replicas when its own dies (see assets/app.js, failover).
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; connect-src 'self' http: https:; frame-ancestors 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}

func requireJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				writeError(w, http.StatusUnsupportedMediaType, errors.New("POST bodies must be application/json"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func servePage(w http.ResponseWriter, r *http.Request) {
	data, err := assets.ReadFile("assets/index.html")
	if err != nil {
		http.Error(w, "dashboard page missing", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(data)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

// part picks one part of the State for GET /api/<part>.
func part(s *State, name string, r *http.Request) (any, bool) {
	switch name {
	case "network":
		return s.Network, true
	case "rollouts":
		return s.Rollouts, true
	case "traffic":
		return s.Traffic, true
	case "functions":
		return s.Functions, true
	case "chaos":
		return s.Chaos, true
	case "replicas":
		return s.Replicas, true
	case "logs":
		region, fn := r.URL.Query().Get("region"), r.URL.Query().Get("function")
		out := []LogLine{}
		for _, l := range s.Logs {
			if (region == "" || l.Region == region) && (fn == "" || l.Function == fn) {
				out = append(out, l)
			}
		}
		return out, true
	}
	return nil, false
}

func (h *Hub) serveJSON(w http.ResponseWriter, r *http.Request) {
	s, data := h.Latest()
	name := r.PathValue("part")
	if name == "state" {
		w.Header().Set("Content-Type", "application/json")
		w.Write(data)
		return
	}
	v, ok := part(s, name, r)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Errorf("no such view %q (views: state network rollouts traffic functions chaos logs replicas)", name))
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// serveEvents streams one "state" event per Hub round until the client
// goes or the Hub stops; a "bye" event tells the page its replica is
// shutting down, so it moves on at once.
func (h *Hub) serveEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, errors.New("streaming unsupported"))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	ch, cancel := h.Subscribe()
	defer cancel()
	io.WriteString(w, "retry: 2000\n\n")
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case data, ok := <-ch:
			if !ok {
				io.WriteString(w, "event: bye\ndata: {}\n\n")
				fl.Flush()
				return
			}
			if _, err := fmt.Fprintf(w, "event: state\ndata: %s\n\n", data); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// InjectRequest is the body of POST /api/chaos/inject. Durations are Go
// duration strings ("30s"); empty means none.
type InjectRequest struct {
	ID        string  `json:"id"`
	Kind      string  `json:"kind"`
	Target    string  `json:"target"`
	Direction string  `json:"direction"`
	Duration  string  `json:"duration"`
	Latency   string  `json:"latency"`
	Rate      float64 `json:"rate"`
	Status    int32   `json:"status"`
}

func parseDur(what, s string) (*durationpb.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 {
		return nil, fmt.Errorf("%s %q: want a duration such as 30s", what, s)
	}
	return durationpb.New(d), nil
}

func (q InjectRequest) fault() (*edgelabv1.Fault, error) {
	if q.Kind == "" || q.Target == "" {
		return nil, errors.New("kind and target are required")
	}
	if q.Rate < 0 || q.Rate > 1 {
		return nil, fmt.Errorf("rate %v: want a fraction 0..1", q.Rate)
	}
	f := &edgelabv1.Fault{Id: q.ID, Kind: q.Kind, Target: q.Target, Direction: q.Direction, Rate: q.Rate, Status: q.Status}
	var err error
	if f.Duration, err = parseDur("duration", q.Duration); err != nil {
		return nil, err
	}
	if f.Latency, err = parseDur("latency", q.Latency); err != nil {
		return nil, err
	}
	return f, nil
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("reading the request body: %w", err))
		return false
	}
	return true
}

func (h *Hub) serveInject(w http.ResponseWriter, r *http.Request) {
	caller, ok := h.authorized(w, r)
	if !ok {
		return
	}
	var q InjectRequest
	if !decode(w, r, &q) {
		return
	}
	f, err := q.fault()
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	got, err := h.cfg.Source.Inject(r.Context(), f)
	h.audit(r, caller, "inject", f.GetKind()+" "+f.GetTarget(), err)
	if err != nil {
		writeError(w, httpCode(err), err)
		return
	}
	h.Refresh()
	writeJSON(w, http.StatusOK, faultOf(got, h.cfg.Now()))
}

// HealRequest is the body of POST /api/chaos/heal: one fault, or all.
type HealRequest struct {
	ID  string `json:"id"`
	All bool   `json:"all"`
}

func (h *Hub) serveHeal(w http.ResponseWriter, r *http.Request) {
	caller, ok := h.authorized(w, r)
	if !ok {
		return
	}
	var q HealRequest
	if !decode(w, r, &q) {
		return
	}
	if q.ID == "" && !q.All {
		writeError(w, http.StatusBadRequest, errors.New("id or all is required"))
		return
	}
	healed, err := h.cfg.Source.Heal(r.Context(), q.ID, q.All)
	target := q.ID
	if q.All {
		target = "all"
	}
	h.audit(r, caller, "heal", target, err)
	if err != nil {
		writeError(w, httpCode(err), err)
		return
	}
	h.Refresh()
	if healed == nil {
		healed = []string{}
	}
	writeJSON(w, http.StatusOK, map[string][]string{"healed": healed})
}

// httpCode maps a Source error (a gRPC status) to an HTTP status.
// authorized runs Config.Authorize and answers 401/403 when it refuses.
func (h *Hub) authorized(w http.ResponseWriter, r *http.Request) (Caller, bool) {
	if h.cfg.Authorize == nil {
		return Caller{Name: "anonymous"}, true
	}
	c, err := h.cfg.Authorize(r)
	if err != nil {
		writeError(w, httpCode(err), errors.New(status.Convert(err).Message()))
		return Caller{}, false
	}
	return c, true
}

// audit hands an action that ran to Config.Audit.
func (h *Hub) audit(r *http.Request, c Caller, action, target string, err error) {
	if h.cfg.Audit != nil {
		h.cfg.Audit(context.WithoutCancel(r.Context()), c, action, target, err)
	}
}

func httpCode(err error) int {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.Unavailable, codes.DeadlineExceeded:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
