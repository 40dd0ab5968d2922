package staticcontent

import (
	"strings"
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func TestViewerRequest(t *testing.T) {
	tests := []struct{ uri, wantInBody string }{
		{"/", "Path / served by fra1 in eu-central-1."},
		{"/<script>", "Path /&lt;script&gt; served"},
	}
	for _, tt := range tests {
		ctx, _ := edgetest.Context(t, edge.Info{EventType: edge.ViewerRequest, PoP: "fra1", Region: "eu-central-1"})
		resp, err := ViewerRequest(ctx, edgetest.NewRequest("GET", tt.uri))
		if err != nil {
			t.Fatal(err)
		}
		if resp == nil || resp.Status != 200 || !strings.Contains(string(resp.Body), tt.wantInBody) {
			t.Fatalf("resp = %+v, want body containing %q", resp, tt.wantInBody)
		}
		if resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || resp.Header.Get("Cache-Control") != "max-age=100" {
			t.Errorf("headers = %v", resp.Header)
		}
	}
}
