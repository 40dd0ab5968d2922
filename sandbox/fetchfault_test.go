package sandbox

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/egress"
)

const fetchSrc = hdr + `
import "strconv"

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	r, err := edge.Fetch(ctx, "GET", req.Header.Get("X-Target"), nil, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Fetched", strconv.Itoa(r.Status)+" "+string(r.Body))
	return nil, nil
}
`

func TestFetchFault(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("upstream"))
	}))
	defer srv.Close()
	rule, err := egress.ParseRule(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	allowSrv := &egress.Policy{Allow: []egress.Rule{rule}} // the test server is on loopback

	tests := []struct {
		name    string
		fault   FetchFault
		outcome Outcome
		header  string
		errs    []error // any of
		errText string
	}{
		{name: "none", outcome: OutcomeContinue, header: "200 upstream"},
		{name: "status", fault: FetchFault{Status: 503}, outcome: OutcomeContinue, header: "503 "},
		{name: "error", fault: FetchFault{Err: "connection refused by chaos"}, outcome: OutcomeExecutionError, errs: []error{ErrHandler}, errText: "connection refused by chaos"},
		{name: "delay", fault: FetchFault{Delay: 50 * time.Millisecond}, outcome: OutcomeContinue, header: "200 upstream"},
		// The fetch gives up at the invocation deadline, when the timeout
		// also fires: either is reported.
		{name: "delay past deadline", fault: FetchFault{Delay: 10 * time.Second}, outcome: OutcomeExecutionError, errs: []error{ErrHandler, ErrTimeout}},
	}
	var current FetchFault
	hook := func(Invocation) FetchFault { return current }
	m := newTestManager(t, func(c *ManagerConfig) { c.FetchFault = hook })
	inproc := NewInProcess(InProcessConfig{Profile: testProfile(), FetchFault: hook})
	runners := map[string]Runner{"worker": m, "inprocess": inproc}
	for rname, r := range runners {
		if err := r.Load(context.Background(), code("fetch", fetchSrc)); err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			t.Run(rname+"/"+tt.name, func(t *testing.T) {
				current = tt.fault
				inv := viewerReq("fetch", "/")
				inv.Request.Header.Set("X-Target", srv.URL)
				inv.Egress = allowSrv
				res, err := r.Invoke(context.Background(), inv)
				if err != nil {
					t.Fatal(err)
				}
				if res.Outcome != tt.outcome {
					t.Fatalf("outcome %s (%v), want %s", res.Outcome, res.Err, tt.outcome)
				}
				if len(tt.errs) > 0 {
					matched := false
					for _, e := range tt.errs {
						matched = matched || errors.Is(res.Err, e)
					}
					if !matched || !strings.Contains(res.Err.Error(), tt.errText) {
						t.Fatalf("err %v, want one of %v mentioning %q", res.Err, tt.errs, tt.errText)
					}
				}
				if tt.header != "" && res.Request.Header.Get("X-Fetched") != tt.header {
					t.Fatalf("X-Fetched = %q, want %q", res.Request.Header.Get("X-Fetched"), tt.header)
				}
			})
		}
	}
}
