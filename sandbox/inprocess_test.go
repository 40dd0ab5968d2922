package sandbox

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgelab/edgelab/edge"
)

func TestInProcess(t *testing.T) {
	r := NewInProcess(InProcessConfig{Profile: testProfile(), Interpreters: 1})
	if err := r.Load(context.Background(), code("hostile", hostileSrc)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		uri     string
		outcome Outcome
		err     error
	}{
		{"/", OutcomeContinue, nil},
		{"/generate", OutcomeGenerated, nil},
		{"/loop", OutcomeExecutionError, ErrTimeout},
		{"/", OutcomeContinue, nil}, // a fresh interpreter replaces the timed-out one
		{"/panic", OutcomeExecutionError, ErrPanic},
		{"/error", OutcomeExecutionError, ErrHandler},
	}
	for _, tt := range tests {
		inv := viewerReq("hostile", tt.uri)
		res, err := r.Invoke(context.Background(), inv)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != tt.outcome || (tt.err != nil && !errors.Is(res.Err, tt.err)) {
			t.Errorf("%s: got %s %v, want %s %v", tt.uri, res.Outcome, res.Err, tt.outcome, tt.err)
		}
		if inv.Request.Header.Get("X-Added") != "" {
			t.Errorf("%s: caller's request mutated", tt.uri)
		}
	}
	r.Unload("hostile", 1)
	if _, err := r.Invoke(context.Background(), viewerReq("hostile", "/")); !errors.Is(err, ErrNotLoaded) {
		t.Fatalf("after unload: %v", err)
	}
}

func TestEngineCancelStopsLoop(t *testing.T) {
	// A timed-out interpreted loop must unwind when its interpreter is
	// cancelled (so the worker need not be recycled); this is what lets
	// a viewer-request timeout cost an interpreter, not a process.
	p, err := compile(map[string][]byte{"h.go": []byte(hostileSrc)})
	if err != nil {
		t.Fatal(err)
	}
	res := p.call(context.Background(), edge.ViewerRequest, edge.Info{}, &edge.Request{URI: "/loop"}, nil, 50*time.Millisecond, nil, nil)
	if res.kind != kindTimeout {
		t.Fatalf("kind = %q (%s), want %q", res.kind, res.err, kindTimeout)
	}
}
