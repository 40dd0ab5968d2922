package switchorigin

import (
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func TestOriginRequest(t *testing.T) {
	tests := []struct{ uri, wantURL, wantHost string }{
		{"/x?origin=b", "http://127.0.0.1:9002", "127.0.0.1:9002"},
		{"/x?origin=a&y=1", "http://127.0.0.1:9001", "127.0.0.1:9001"},
		{"/x?origin=zzz", "http://default.test", "default.test"},
		{"/x", "http://default.test", "default.test"},
	}
	for _, tt := range tests {
		ctx, _ := edgetest.Context(t, edge.Info{EventType: edge.OriginRequest})
		req := edgetest.NewRequest("GET", tt.uri)
		req.Header.Set("Host", "default.test")
		req.Origin, _ = edge.NewCustomOrigin("http://default.test")
		if resp, err := OriginRequest(ctx, req); resp != nil || err != nil {
			t.Fatalf("OriginRequest = %v, %v", resp, err)
		}
		if req.Origin.URL() != tt.wantURL || req.Header.Get("Host") != tt.wantHost {
			t.Errorf("%s: origin %q host %q, want %q %q", tt.uri, req.Origin.URL(), req.Header.Get("Host"), tt.wantURL, tt.wantHost)
		}
	}
}
