package devicecontent

import (
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func TestOriginRequest(t *testing.T) {
	tests := []struct{ header, wantURI string }{
		{"CloudFront-Is-Mobile-Viewer", "/mobile/index.html"},
		{"CloudFront-Is-Tablet-Viewer", "/tablet/index.html"},
		{"CloudFront-Is-SmartTV-Viewer", "/smarttv/index.html"},
		{"", "/desktop/index.html"},
	}
	for _, tt := range tests {
		ctx, _ := edgetest.Context(t, edge.Info{EventType: edge.OriginRequest})
		req := edgetest.NewRequest("GET", "/index.html")
		for _, h := range []string{"CloudFront-Is-Mobile-Viewer", "CloudFront-Is-Tablet-Viewer", "CloudFront-Is-SmartTV-Viewer", "CloudFront-Is-Desktop-Viewer"} {
			req.Header.Set(h, "false")
		}
		if tt.header != "" {
			req.Header.Set(tt.header, "true")
		}
		if resp, err := OriginRequest(ctx, req); resp != nil || err != nil {
			t.Fatalf("OriginRequest = %v, %v", resp, err)
		}
		if req.URI != tt.wantURI {
			t.Errorf("%q: URI = %q, want %q", tt.header, req.URI, tt.wantURI)
		}
	}
}
