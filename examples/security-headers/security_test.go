package securityheaders

import (
	"context"
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func TestHeaders(t *testing.T) {
	tests := []struct {
		name string
		fn   func(context.Context, *edge.Request, *edge.Response) error
		e    edge.EventType
	}{
		{"origin-response", OriginResponse, edge.OriginResponse},
		{"viewer-response", ViewerResponse, edge.ViewerResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, _ := edgetest.Context(t, edge.Info{EventType: tt.e})
			resp := edgetest.NewResponse(200)
			resp.Header.Set("X-Frame-Options", "SAMEORIGIN")
			if err := tt.fn(ctx, edgetest.NewRequest("GET", "/"), resp); err != nil {
				t.Fatal(err)
			}
			if resp.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
				t.Error("the origin's X-Frame-Options was overwritten")
			}
			for _, h := range []string{"Strict-Transport-Security", "Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
				if resp.Header.Get(h) == "" {
					t.Errorf("%s missing", h)
				}
			}
			if resp.Status != 200 {
				t.Errorf("status changed to %d", resp.Status)
			}
		})
	}
}
