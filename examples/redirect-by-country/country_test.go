package redirectbycountry

import (
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func TestOriginRequest(t *testing.T) {
	tests := []struct {
		country, uri, wantLocation string
	}{
		{"DE", "/shop", "/de/shop"},
		{"at", "/", "/de/"},
		{"FR", "/fr/shop", ""},
		{"US", "/shop", ""},
		{"", "/shop", ""},
	}
	for _, tt := range tests {
		ctx, _ := edgetest.Context(t, edge.Info{EventType: edge.OriginRequest})
		req := edgetest.NewRequest("GET", tt.uri)
		if tt.country != "" {
			req.Header.Set("CloudFront-Viewer-Country", tt.country)
		}
		resp, err := OriginRequest(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if tt.wantLocation == "" {
			if resp != nil {
				t.Errorf("%s %s: got %d, want pass-through", tt.country, tt.uri, resp.Status)
			}
			continue
		}
		if resp == nil || resp.Status != 302 || resp.Header.Get("Location") != tt.wantLocation {
			t.Errorf("%s %s: resp = %+v, want 302 %s", tt.country, tt.uri, resp, tt.wantLocation)
		}
	}
}
