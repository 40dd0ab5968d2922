package redirect

import (
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func TestViewerRequest(t *testing.T) {
	tests := []struct {
		uri          string
		wantStatus   int
		wantLocation string
	}{
		{"/old-page.html", 301, "/new-page.html"},
		{"/blog?page=2", 301, "/news?page=2"},
		{"/go/cloudfront", 302, "https://aws.amazon.com/cloudfront/"},
		{"/go/nope", 404, ""},
		{"/index.html", 0, ""},
	}
	for _, tt := range tests {
		ctx, _ := edgetest.Context(t, edge.Info{EventType: edge.ViewerRequest})
		resp, err := ViewerRequest(ctx, edgetest.NewRequest("GET", tt.uri))
		if err != nil {
			t.Fatal(err)
		}
		if tt.wantStatus == 0 {
			if resp != nil {
				t.Errorf("%s: got %d, want pass-through", tt.uri, resp.Status)
			}
			continue
		}
		if resp == nil || resp.Status != tt.wantStatus || resp.Header.Get("Location") != tt.wantLocation {
			t.Errorf("%s: resp = %+v, want %d %q", tt.uri, resp, tt.wantStatus, tt.wantLocation)
		}
	}
}
