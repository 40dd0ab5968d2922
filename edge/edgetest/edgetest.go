// Package edgetest helps function authors unit-test handlers natively with
// go test: a context carrying an edge.Info and a capturing Runtime (logs,
// fake outbound fetches), and request/response constructors.
//
//	func TestAuth(t *testing.T) {
//		ctx, rt := edgetest.Context(t, edge.Info{EventType: edge.ViewerRequest})
//		rt.HandleFetch(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ... }))
//		resp, err := ViewerRequest(ctx, edgetest.NewRequest("GET", "/private"))
//		...
//		if logs := rt.Logs(); len(logs) != 1 { ... }
//	}
package edgetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/edgelab/edgelab/edge"
)

// Runtime is an edge.Runtime that records log lines and fetched requests and
// answers fetches from a handler set with HandleFetch. It is safe for
// concurrent use.
type Runtime struct {
	mu       sync.Mutex
	logs     []string
	fetched  []*http.Request
	handler  http.Handler
	fetchErr error
}

var _ edge.Runtime = (*Runtime)(nil)

// ErrNoFetchHandler is returned by Fetch when no handler or error was set.
var ErrNoFetchHandler = errors.New("edgetest: fetch called but no fetch handler set (use Runtime.HandleFetch)")

// NewRuntime returns an empty capturing Runtime.
func NewRuntime() *Runtime { return &Runtime{} }

// Context returns a context carrying info and a fresh capturing Runtime.
// The context is cancelled when the test ends.
func Context(t testing.TB, info edge.Info) (context.Context, *Runtime) {
	t.Helper()
	rt := NewRuntime()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return edge.NewContext(ctx, info, rt), rt
}

// Log records line.
func (r *Runtime) Log(_ context.Context, line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, line)
}

// Logs returns a copy of the recorded log lines, oldest first.
func (r *Runtime) Logs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.logs...)
}

// HandleFetch makes Fetch answer with h (served in-process, no network).
func (r *Runtime) HandleFetch(h http.Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handler, r.fetchErr = h, nil
}

// FailFetch makes every Fetch fail with err (e.g. to test a fallback).
func (r *Runtime) FailFetch(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handler, r.fetchErr = nil, err
}

// Fetched returns the requests Fetch received, oldest first.
func (r *Runtime) Fetched() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.fetched...)
}

// Fetch records req and answers it from the handler set with HandleFetch.
// It honours ctx: a cancelled or expired context fails the fetch.
func (r *Runtime) Fetch(ctx context.Context, req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.fetched = append(r.fetched, req)
	h, ferr := r.handler, r.fetchErr
	r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("edgetest fetch: %w", err)
	}
	if ferr != nil {
		return nil, ferr
	}
	if h == nil {
		return nil, ErrNoFetchHandler
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req.WithContext(ctx))
	return rec.Result(), nil
}

// NewRequest returns a request as the edge would pass it: canonical headers
// map, URI (split into URI and QueryString at "?"), client IP 203.0.113.10.
func NewRequest(method, uri string) *edge.Request {
	req := &edge.Request{Method: method, URI: uri, Header: http.Header{}, ClientIP: "203.0.113.10"}
	for i := 0; i < len(uri); i++ {
		if uri[i] == '?' {
			req.URI, req.QueryString = uri[:i], uri[i+1:]
			break
		}
	}
	return req
}

// NewResponse returns an origin/cached response with status and headers map.
func NewResponse(status int) *edge.Response {
	return &edge.Response{Status: status, StatusDescription: http.StatusText(status), Header: http.Header{}}
}
