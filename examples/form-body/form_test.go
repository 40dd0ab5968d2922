package formbody

import (
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func TestViewerRequest(t *testing.T) {
	tests := []struct {
		name, method, body string
		truncated          bool
		noBody             bool
		wantStatus         int
		wantBody           string
	}{
		{"cleaned and replaced", "POST", "comment=+hello+&user=bob", false, false, 0, "comment=hello&processed-by=edgelab&user=bob"},
		{"missing comment", "POST", "user=bob", false, false, 400, ""},
		{"malformed", "POST", "comment=%zz", false, false, 400, ""},
		{"truncated", "POST", "comment=x", true, false, 413, ""},
		{"GET passes", "GET", "", false, true, 0, ""},
		{"POST without include-body passes", "POST", "", false, true, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, _ := edgetest.Context(t, edge.Info{EventType: edge.ViewerRequest})
			req := edgetest.NewRequest(tt.method, "/comments")
			if !tt.noBody {
				req.Body = &edge.Body{Data: []byte(tt.body), Truncated: tt.truncated}
			}
			resp, err := ViewerRequest(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantStatus != 0 {
				if resp == nil || resp.Status != tt.wantStatus {
					t.Fatalf("resp = %+v, want %d", resp, tt.wantStatus)
				}
				return
			}
			if resp != nil {
				t.Fatalf("resp = %+v, want pass-through", resp)
			}
			if tt.wantBody != "" && (string(req.Body.Data) != tt.wantBody || !req.Body.Replace) {
				t.Errorf("body = %q replace=%v, want %q", req.Body.Data, req.Body.Replace, tt.wantBody)
			}
		})
	}
}
