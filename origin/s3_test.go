package origin

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func startS3(t *testing.T) *Server {
	t.Helper()
	s, err := New(Config{ID: "s3", S3Buckets: []string{"media"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = s.Close()
	})
	return s
}

// TestS3Mode: path-style and virtual-hosted buckets, ETag, Last-Modified,
// x-amz-meta-*, conditional 304, NoSuchKey/NoSuchBucket, PUT then GET,
// and 411 for a chunked PUT.
func TestS3Mode(t *testing.T) {
	s := startS3(t)
	base := s.URL()
	resp, body, err := get(t, "GET", base+"/media/cats/1.jpg", "")
	if err != nil {
		t.Fatal(err)
	}
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || body != "object media/cats/1.jpg from s3\n" || len(etag) != 34 ||
		resp.Header.Get("Last-Modified") == "" || resp.Header.Get("X-Amz-Meta-Bucket") != "media" || resp.Header.Get("X-Amz-Request-Id") == "" {
		t.Fatalf("GET: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	// Virtual-hosted style names the same object.
	req, _ := http.NewRequest("GET", base+"/cats/1.jpg", nil)
	req.Host = "media.s3.eu-west-1.example"
	req.Header.Set("If-None-Match", etag)
	vr, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	vr.Body.Close()
	if vr.StatusCode != http.StatusNotModified {
		t.Fatalf("virtual-hosted conditional GET: %d, want 304", vr.StatusCode)
	}
	for path, code := range map[string]string{"/media/missing/x": "NoSuchKey", "/other/x": "NoSuchBucket"} {
		resp, body, err := get(t, "GET", base+path, "")
		if err != nil || resp.StatusCode != 404 || !strings.Contains(body, "<Code>"+code+"</Code>") {
			t.Errorf("%s: %v %v %q", path, err, resp, body)
		}
	}
	put, _ := http.NewRequest("PUT", base+"/media/up.txt", strings.NewReader("hello"))
	put.Header.Set("X-Amz-Meta-Owner", "alice")
	if pr, err := http.DefaultTransport.RoundTrip(put); err != nil || pr.StatusCode != 200 {
		t.Fatalf("PUT: %v %v", err, pr)
	}
	resp, body, _ = get(t, "GET", base+"/media/up.txt", "")
	if body != "hello" || resp.Header.Get("X-Amz-Meta-Owner") != "alice" {
		t.Fatalf("GET after PUT: %q %v", body, resp.Header)
	}
	chunked, _ := http.NewRequest("PUT", base+"/media/c.txt", io.MultiReader(strings.NewReader("x")))
	cr, err := http.DefaultTransport.RoundTrip(chunked)
	if err != nil {
		t.Fatal(err)
	}
	cr.Body.Close()
	if cr.StatusCode != http.StatusLengthRequired {
		t.Fatalf("chunked PUT: %d, want 411", cr.StatusCode)
	}
}
