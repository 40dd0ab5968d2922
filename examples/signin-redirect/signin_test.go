package signinredirect

import (
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func TestViewerRequest(t *testing.T) {
	tests := []struct {
		uri, cookie, wantLocation string
	}{
		{"/account?tab=2", "", "/signin?redirect=%2Faccount%3Ftab%3D2"},
		{"/account", "session=", "/signin?redirect=%2Faccount"},
		{"/account", "theme=dark; session=abc", ""},
		{"/signin", "", ""},
		{"/public/logo.png", "", ""},
	}
	for _, tt := range tests {
		ctx, _ := edgetest.Context(t, edge.Info{EventType: edge.ViewerRequest})
		req := edgetest.NewRequest("GET", tt.uri)
		if tt.cookie != "" {
			req.Header.Set("Cookie", tt.cookie)
		}
		resp, err := ViewerRequest(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if tt.wantLocation == "" {
			if resp != nil {
				t.Errorf("%s %q: got %d, want pass-through", tt.uri, tt.cookie, resp.Status)
			}
			continue
		}
		if resp == nil || resp.Status != 302 || resp.Header.Get("Location") != tt.wantLocation {
			t.Errorf("%s %q: resp = %+v, want 302 %s", tt.uri, tt.cookie, resp, tt.wantLocation)
		}
	}
}
