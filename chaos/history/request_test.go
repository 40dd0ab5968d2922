package history

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseFunctions(t *testing.T) {
	tests := []struct {
		in      string
		want    []FunctionRun
		wantErr bool
	}{
		{"viewer-request=auth:3, origin-response=headers:1", []FunctionRun{
			{Event: "origin-response", Function: "headers", Version: 1},
			{Event: "viewer-request", Function: "auth", Version: 3}}, false},
		{"viewer-request=auth:3", []FunctionRun{{Event: "viewer-request", Function: "auth", Version: 3}}, false},
		{" , ,", nil, false},
		{"viewer-request=auth", nil, true},
		{"viewer-request=auth:x", nil, true},
		{"viewer-request=auth:-1", nil, true},
		{"=auth:1", nil, true},
		{"auth:1", nil, true},
		{"viewer-request=auth:2, bogus", []FunctionRun{{Event: "viewer-request", Function: "auth", Version: 2}}, true},
		{strings.Repeat("a", maxFunctionsHeader+1), nil, true},
	}
	for _, tc := range tests {
		got, err := ParseFunctions(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseFunctions(%.40q) err = %v, wantErr %v", tc.in, err, tc.wantErr)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseFunctions(%.40q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzParseFunctions(f *testing.F) {
	for _, s := range []string{"viewer-request=auth:3, origin-response=headers:1", "", "=:", "a=b:9999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		runs, _ := ParseFunctions(s)
		for _, r := range runs {
			if r.Version <= 0 || r.Event == "" || r.Function == "" {
				t.Fatalf("ParseFunctions(%q) returned invalid run %+v", s, r)
			}
		}
	})
}

func TestFillFromResponse(t *testing.T) {
	h := http.Header{}
	h.Set(HeaderCache, "LambdaExecutionError from edgelab")
	h.Set(HeaderNode, "edge-1")
	h.Set(HeaderPop, "IAD")
	h.Set(HeaderGatewayEdge, "edge-1")
	h.Set(HeaderGatewayAttempts, "2")
	h.Set(HeaderFunctions, "viewer-request=auth:3")
	var r Request
	r.FillFromResponse(503, h)
	if r.Status != 503 || r.Node != "edge-1" || r.Pop != "IAD" || r.Attempts != 2 || len(r.Functions) != 1 {
		t.Fatalf("FillFromResponse = %+v", r)
	}
	if !r.Failed() || !r.IsFunctionError() || r.IsOriginError() || r.CacheResult() != "LambdaExecutionError" {
		t.Fatalf("classification wrong for %+v", r)
	}
	h.Set(HeaderFunctions, "garbage")
	h.Set(HeaderGatewayAttempts, "-4")
	var bad Request
	bad.FillFromResponse(200, h)
	if bad.FunctionsErr == "" || bad.Attempts != 0 {
		t.Fatalf("malformed headers not flagged: %+v", bad)
	}
}

func TestNodeHistoryAndWindow(t *testing.T) {
	t0 := time.Unix(100, 0)
	n := NodeHistory{Applied: []Applied{{Revision: 3, Time: t0}, {Revision: 7, Time: t0.Add(time.Second)}}}
	if at, ok := n.ReachedAt(5); !ok || !at.Equal(t0.Add(time.Second)) {
		t.Fatalf("ReachedAt(5) = %v %v", at, ok)
	}
	if _, ok := n.ReachedAt(8); ok {
		t.Fatal("ReachedAt(8) reported reached")
	}
	w := Window{From: t0, To: t0.Add(time.Second)}
	if !w.Contains(t0) || w.Contains(t0.Add(time.Second)) || !w.Covers(t0, t0.Add(time.Second)) || w.Covers(t0.Add(-1), t0) {
		t.Fatal("window bounds wrong")
	}
}
