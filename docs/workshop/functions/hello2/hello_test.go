package hello2

import (
	"strings"
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func TestViewerRequest(t *testing.T) {
	tests := []struct{ uri, want string }{
		{"/hello", "Hello again from the edge (v2)"},
		{"/<b>", "Path /&lt;b&gt; served by DUB in eu-west-1."},
	}
	for _, tt := range tests {
		ctx, _ := edgetest.Context(t, edge.Info{EventType: edge.ViewerRequest, PoP: "DUB", Region: "eu-west-1"})
		resp, err := ViewerRequest(ctx, edgetest.NewRequest("GET", tt.uri))
		if err != nil {
			t.Fatal(err)
		}
		if resp == nil || resp.Status != 200 || !strings.Contains(string(resp.Body), tt.want) {
			t.Fatalf("%s: resp = %+v, want 200 containing %q", tt.uri, resp, tt.want)
		}
	}
}
