package edgetest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func TestContextCapturesLogsAndInfo(t *testing.T) {
	ctx, rt := edgetest.Context(t, edge.Info{EventType: edge.ViewerRequest, FunctionName: "auth", FunctionVersion: 3})
	edge.Log(ctx, "a", 1)
	edge.Logf(ctx, "b=%d", 2)
	if got := rt.Logs(); len(got) != 2 || got[0] != "a1" || got[1] != "b=2" {
		t.Errorf("Logs = %q", got)
	}
	if info := edge.InfoFrom(ctx); info.FunctionName != "auth" || info.EventType != edge.ViewerRequest {
		t.Errorf("InfoFrom = %+v", info)
	}
}

func TestFetch(t *testing.T) {
	ctx, rt := edgetest.Context(t, edge.Info{})
	if _, err := edge.Fetch(ctx, "GET", "http://x/", nil, nil); !errors.Is(err, edgetest.ErrNoFetchHandler) {
		t.Fatalf("no handler: err = %v", err)
	}
	rt.HandleFetch(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Echo", r.Header.Get("X-In"))
		w.WriteHeader(202)
		w.Write(append([]byte(r.Method+" "+r.URL.Path+" "), b...))
	}))
	resp, err := edge.Fetch(ctx, "POST", "http://auth/check", http.Header{"X-In": {"v"}}, []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 202 || string(resp.Body) != "POST /check payload" || resp.Header.Get("X-Echo") != "v" {
		t.Errorf("resp = %+v", resp)
	}
	if got := rt.Fetched(); len(got) != 2 || got[1].URL.Host != "auth" {
		t.Errorf("Fetched = %v", got)
	}
	boom := errors.New("boom")
	rt.FailFetch(boom)
	if _, err := edge.Fetch(ctx, "GET", "http://x/", nil, nil); !errors.Is(err, boom) {
		t.Errorf("FailFetch: err = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	rt.HandleFetch(http.NotFoundHandler())
	if _, err := edge.Fetch(cctx, "GET", "http://x/", nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func TestNewRequest(t *testing.T) {
	tests := []struct{ in, uri, qs string }{
		{"/a/b", "/a/b", ""},
		{"/a?x=1&y=2", "/a", "x=1&y=2"},
		{"/?", "/", ""},
	}
	for _, tt := range tests {
		r := edgetest.NewRequest("GET", tt.in)
		if r.URI != tt.uri || r.QueryString != tt.qs || r.Header == nil || r.ClientIP == "" {
			t.Errorf("NewRequest(%q) = %+v", tt.in, r)
		}
	}
	if r := edgetest.NewResponse(404); r.Status != 404 || r.StatusDescription != "Not Found" || r.Header == nil {
		t.Errorf("NewResponse = %+v", r)
	}
}
