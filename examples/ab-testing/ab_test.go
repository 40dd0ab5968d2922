package abtesting

import (
	"strings"
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func TestStickyGroup(t *testing.T) {
	tests := []struct{ cookie, wantURI string }{
		{"ab-group=a", "/experiment/a/index.html"},
		{"theme=dark; ab-group=b", "/experiment/b/index.html"},
	}
	for _, tt := range tests {
		ctx, _ := edgetest.Context(t, edge.Info{EventType: edge.ViewerRequest})
		req := edgetest.NewRequest("GET", "/index.html")
		req.Header.Set("Cookie", tt.cookie)
		if resp, err := ViewerRequest(ctx, req); resp != nil || err != nil {
			t.Fatalf("ViewerRequest = %v, %v", resp, err)
		}
		if req.URI != tt.wantURI {
			t.Errorf("cookie %q: URI = %q, want %q", tt.cookie, req.URI, tt.wantURI)
		}
	}
}

func TestRandomSplit(t *testing.T) {
	seen := map[string]int{}
	for i := 0; i < 400; i++ {
		ctx, _ := edgetest.Context(t, edge.Info{})
		req := edgetest.NewRequest("GET", "/p")
		req.Header.Set("Cookie", "ab-group=bogus")
		if _, err := ViewerRequest(ctx, req); err != nil {
			t.Fatal(err)
		}
		group := strings.Split(req.URI, "/")[2]
		if c, _ := edge.Cookie(req.Header, CookieName); c != "bogus" {
			t.Fatalf("the viewer's own cookie changed: %q", c)
		}
		if !strings.Contains(req.Header.Get("Cookie"), "ab-group="+group) {
			t.Fatalf("Cookie = %q, want the group %s appended", req.Header.Get("Cookie"), group)
		}
		seen[group]++
	}
	if len(seen) != 2 || seen["a"] < 100 || seen["b"] < 100 {
		t.Errorf("split = %v, want roughly 50/50 between a and b", seen)
	}
}
