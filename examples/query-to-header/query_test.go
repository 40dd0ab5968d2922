package querytoheader

import (
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func TestViewerRequest(t *testing.T) {
	tests := []struct {
		uri, wantQS, wantLang, wantDevice string
	}{
		{"/p?lang=fr&id=7", "id=7", "fr", ""},
		{"/p?device=mobile&lang=de", "", "de", "mobile"},
		{"/p?id=7&b=2", "id=7&b=2", "", ""},
		{"/p?lang=", "", "", ""},
	}
	for _, tt := range tests {
		ctx, _ := edgetest.Context(t, edge.Info{EventType: edge.ViewerRequest})
		req := edgetest.NewRequest("GET", tt.uri)
		if resp, err := ViewerRequest(ctx, req); resp != nil || err != nil {
			t.Fatalf("ViewerRequest = %v, %v", resp, err)
		}
		if req.QueryString != tt.wantQS || req.Header.Get("X-Lang") != tt.wantLang || req.Header.Get("X-Device") != tt.wantDevice {
			t.Errorf("%s: qs=%q lang=%q device=%q", tt.uri, req.QueryString, req.Header.Get("X-Lang"), req.Header.Get("X-Device"))
		}
	}
}
