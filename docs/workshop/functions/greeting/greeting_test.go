package greeting

import (
	"strings"
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func TestViewerRequest(t *testing.T) {
	tests := []struct {
		name     string
		uri      string
		wantBody string // "" means the request continues (no response)
	}{
		{"named", "/greet?name=edge", "Hello, edge, from NRT (ap-northeast-1)\n"},
		{"default name", "/greet", "Hello, world, from NRT (ap-northeast-1)\n"},
		{"other path continues", "/objects/1024", ""},
		{"long name is cut", "/greet?name=" + strings.Repeat("x", 1000), "Hello, " + strings.Repeat("x", maxName) + ", from NRT (ap-northeast-1)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, rt := edgetest.Context(t, edge.Info{EventType: edge.ViewerRequest, PoP: "NRT", Region: "ap-northeast-1"})
			resp, err := ViewerRequest(ctx, edgetest.NewRequest("GET", tt.uri))
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantBody == "" {
				if resp != nil {
					t.Fatalf("got a response %+v, want the request to continue", resp)
				}
				return
			}
			if resp == nil || resp.Status != 200 || string(resp.Body) != tt.wantBody {
				t.Fatalf("resp = %+v, want 200 %q", resp, tt.wantBody)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if len(rt.Logs()) != 1 {
				t.Errorf("logs = %q, want one line", rt.Logs())
			}
		})
	}
}
