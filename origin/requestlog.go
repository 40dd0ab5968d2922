package origin

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultMaxRequests is how many recent requests the origin's request log
// keeps (GET /_admin/requests).
const DefaultMaxRequests = 1000

// RequestRecord is one request the origin received.
type RequestRecord struct {
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	// URI is the path and query.
	URI string `json:"uri"`
	// Via is the request's Via header: the edge nodes it passed, the one
	// that fetched last (e.g. "1.1 edge-ap-northeast-1-1 (edgelab), 1.1
	// rec-us-east-1 (edgelab)").
	Via string `json:"via,omitempty"`
}

// RequestLog is what GET /_admin/requests returns: the recent requests,
// oldest first, and how many there are.
type RequestLog struct {
	Count    int             `json:"count"`
	Requests []RequestRecord `json:"requests"`
}

// requestLog keeps the last max requests. Safe for concurrent use.
type requestLog struct {
	mu   sync.Mutex
	max  int
	list []RequestRecord
}

func (l *requestLog) add(r RequestRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.list) >= l.max {
		copy(l.list, l.list[1:])
		l.list = l.list[:len(l.list)-1]
	}
	l.list = append(l.list, r)
}

// snapshot lists the kept requests whose path starts with prefix.
func (l *requestLog) snapshot(prefix string) RequestLog {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := RequestLog{Requests: []RequestRecord{}}
	for _, r := range l.list {
		path, _, _ := strings.Cut(r.URI, "?")
		if strings.HasPrefix(path, prefix) {
			out.Requests = append(out.Requests, r)
		}
	}
	out.Count = len(out.Requests)
	return out
}

func (l *requestLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = nil
}

// Requests returns the recent requests (oldest first) whose path starts
// with prefix ("": all).
func (s *Server) Requests(prefix string) RequestLog { return s.reqs.snapshot(prefix) }

// adminRequests serves GET /_admin/requests[?path=PREFIX] (indented JSON,
// to read in a terminal) and DELETE (forget them).
func (s *Server) adminRequests(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s.reqs.snapshot(r.URL.Query().Get("path")))
	case http.MethodDelete:
		s.reqs.reset()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}
