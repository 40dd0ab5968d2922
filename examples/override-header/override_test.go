package overrideheader

import (
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func TestViewerResponse(t *testing.T) {
	tests := []struct {
		name, meta, lastModified, wantLM string
	}{
		{"metadata wins", "Tue, 01 Jan 2030 00:00:00 GMT", "Mon, 01 Jan 2029 00:00:00 GMT", "Tue, 01 Jan 2030 00:00:00 GMT"},
		{"no metadata keeps header", "", "Mon, 01 Jan 2029 00:00:00 GMT", "Mon, 01 Jan 2029 00:00:00 GMT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, _ := edgetest.Context(t, edge.Info{EventType: edge.ViewerResponse})
			resp := edgetest.NewResponse(200)
			resp.Header.Set("Server", "nginx")
			resp.Header.Set("Last-Modified", tt.lastModified)
			if tt.meta != "" {
				resp.Header.Set("X-Amz-Meta-Last-Modified", tt.meta)
			}
			if err := ViewerResponse(ctx, edgetest.NewRequest("GET", "/"), resp); err != nil {
				t.Fatal(err)
			}
			if got := resp.Header.Get("Last-Modified"); got != tt.wantLM {
				t.Errorf("Last-Modified = %q, want %q", got, tt.wantLM)
			}
			if resp.Header.Get("Server") != "edgelab" || resp.Header.Get("X-Amz-Meta-Last-Modified") != "" || resp.Status != 200 {
				t.Errorf("headers = %v", resp.Header)
			}
		})
	}
}
