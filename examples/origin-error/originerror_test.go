package originerror

import (
	"strings"
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func TestOriginResponse(t *testing.T) {
	tests := []struct {
		uri                string
		status, wantStatus int
		wantLocation       string
		wantBody           bool
	}{
		{"/app/dashboard", 503, 302, MaintenancePath, false},
		{"/index.html", 500, 200, "", true},
		{"/index.html", 404, 404, "", false},
		{"/index.html", 200, 200, "", false},
	}
	for _, tt := range tests {
		ctx, rt := edgetest.Context(t, edge.Info{EventType: edge.OriginResponse})
		resp := edgetest.NewResponse(tt.status)
		if err := OriginResponse(ctx, edgetest.NewRequest("GET", tt.uri), resp); err != nil {
			t.Fatal(err)
		}
		if resp.Status != tt.wantStatus || resp.Header.Get("Location") != tt.wantLocation {
			t.Errorf("%s %d: got %d %q", tt.uri, tt.status, resp.Status, resp.Header.Get("Location"))
		}
		if got := strings.Contains(string(resp.Body), "right back"); got != tt.wantBody {
			t.Errorf("%s %d: body = %q", tt.uri, tt.status, resp.Body)
		}
		if wantLog := tt.status >= 500; (len(rt.Logs()) == 1) != wantLog {
			t.Errorf("%s %d: logs = %q", tt.uri, tt.status, rt.Logs())
		}
	}
}
