package normalizequery

import (
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func TestViewerRequest(t *testing.T) {
	tests := []struct{ uri, want string }{
		{"/p?Size=LARGE&color=Red", "color=red&size=large"},
		{"/p?color=red&size=large", "color=red&size=large"},
		{"/p", ""},
	}
	for _, tt := range tests {
		ctx, _ := edgetest.Context(t, edge.Info{EventType: edge.ViewerRequest})
		req := edgetest.NewRequest("GET", tt.uri)
		if resp, err := ViewerRequest(ctx, req); resp != nil || err != nil {
			t.Fatalf("ViewerRequest = %v, %v", resp, err)
		}
		if req.QueryString != tt.want {
			t.Errorf("%s: QueryString = %q, want %q", tt.uri, req.QueryString, tt.want)
		}
	}
}
