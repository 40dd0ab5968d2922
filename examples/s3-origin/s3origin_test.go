package s3origin

import (
	"net/http"
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func TestOriginRequest(t *testing.T) {
	for _, tt := range []struct {
		uri, bucket string
		wantS3      bool
	}{
		{"/media/cat.jpg", "media.s3.test", true},
		{"/media/cat.jpg", "127.0.0.1:9003/media", true},
		{"/page.html", "media.s3.test", false},
		{"/media/cat.jpg", "", false},
	} {
		ctx, _ := edgetest.Context(t, edge.Info{EventType: edge.OriginRequest})
		req := edgetest.NewRequest("GET", tt.uri)
		req.Origin, _ = edge.NewCustomOrigin("http://web.test")
		if tt.bucket != "" {
			req.Origin.Custom.CustomHeaders = http.Header{BucketHeader: {tt.bucket}}
		}
		if resp, err := OriginRequest(ctx, req); resp != nil || err != nil {
			t.Fatalf("OriginRequest = %v, %v", resp, err)
		}
		if got := req.Origin.S3 != nil; got != tt.wantS3 {
			t.Errorf("%s (bucket %q): switched to S3 = %v, want %v", tt.uri, tt.bucket, got, tt.wantS3)
		}
		if got := req.Origin.URL(); tt.wantS3 && (got != "http://"+tt.bucket || req.Header.Get("Host") != req.Origin.S3.DomainName) {
			t.Errorf("%s: origin %+v, Host %q", tt.uri, req.Origin.S3, req.Header.Get("Host"))
		}
	}
}
