package edgenode

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/examples"
	"github.com/edgelab/edgelab/origin"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

// originSaw is what a test origin received.
type originSaw struct {
	host, path       string
	contentLength    int64
	transferEncoding []string
	body             string
	header           http.Header
}

// sawOrigin answers 200 and sends what it received on a channel.
func sawOrigin(t *testing.T) (*countingOrigin, <-chan originSaw) {
	t.Helper()
	seen := make(chan originSaw, 8)
	o := newCountingOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen <- originSaw{host: r.Host, path: r.URL.Path, contentLength: r.ContentLength,
			transferEncoding: r.TransferEncoding, body: string(b), header: r.Header.Clone()}
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprint(w, "ok")
	})
	return o, seen
}

// TestViewerBodyKeepsContentLength: a viewer body with a Content-Length
// reaches the origin with it, not re-chunked (S3 answers 411 to a chunked
// PUT), with and without an include-body trigger reading a prefix of it.
func TestViewerBodyKeepsContentLength(t *testing.T) {
	body := strings.Repeat("x", 100<<10) // beyond the front end's pre-read
	for _, includeBody := range []bool{false, true} {
		t.Run(fmt.Sprintf("include-body=%v", includeBody), func(t *testing.T) {
			o, seen := sawOrigin(t)
			n := startNode(t, newFakeRunner(), nil)
			a := assoc(evVR, "vr")
			a.IncludeBody = includeBody
			if err := n.Apply(context.Background(), snapshot(1, o.URL, "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{a}}), nil); err != nil {
				t.Fatal(err)
			}
			if r := do(t, n, "PUT", "/upload", nil, body); r.status != 200 {
				t.Fatalf("PUT: %d %s", r.status, r.body)
			}
			got := <-seen
			if got.contentLength != int64(len(body)) || len(got.transferEncoding) != 0 || got.body != body {
				t.Fatalf("origin got Content-Length %d, Transfer-Encoding %v, %d body bytes; want %d, none, %d",
					got.contentLength, got.transferEncoding, len(got.body), len(body), len(body))
			}
		})
	}
}

// TestOriginRequestSwitchesToS3: an origin-request function replaces the
// custom origin by an S3 origin (domainName, path, custom headers) and sets
// Host, as AWS's example does; the request goes there with that Host.
func TestOriginRequestSwitchesToS3(t *testing.T) {
	web, _ := sawOrigin(t)
	bucket, seen := sawOrigin(t)
	bucketHost := strings.TrimPrefix(bucket.URL, "http://")
	fr := newFakeRunner()
	fr.handlers["sw"] = func(inv sandbox.Invocation) sandbox.Result {
		if strings.HasPrefix(inv.Request.URI, "/media/") {
			inv.Request.Origin = &edge.Origin{S3: &edge.S3Origin{DomainName: bucketHost, Region: "eu-west-1", AuthMethod: "none",
				Path: "/media-bucket", CustomHeaders: http.Header{"X-From": {"s3-switch"}}}}
			inv.Request.Header.Set("Host", "media-bucket.s3.eu-west-1.example")
		}
		return cont(inv)
	}
	n := startNode(t, fr, nil)
	if err := n.Apply(context.Background(), snapshot(1, web.URL, "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{assoc(evOReq, "sw")}}), nil); err != nil {
		t.Fatal(err)
	}
	if r := do(t, n, "GET", "/media/cat.jpg", nil, ""); r.status != 200 {
		t.Fatalf("GET: %d %s", r.status, r.body)
	}
	got := <-seen
	if got.path != "/media-bucket/media/cat.jpg" || got.host != "media-bucket.s3.eu-west-1.example" || got.header.Get("X-From") != "s3-switch" {
		t.Fatalf("S3 origin got path %q host %q X-From %q", got.path, got.host, got.header.Get("X-From"))
	}
	if web.hits.Load() != 0 {
		t.Fatalf("the custom origin was asked %d times", web.hits.Load())
	}
}

// TestFunctionsSeeHeaderSpelling: a header name the viewer spelt other
// than canonically reaches functions as Request.HeaderKeys (the event
// JSON's key); the Header map keys stay canonical.
func TestFunctionsSeeHeaderSpelling(t *testing.T) {
	o, _ := sawOrigin(t)
	fr := newFakeRunner()
	got := make(chan map[string]string, 1)
	fr.handlers["vr"] = func(inv sandbox.Invocation) sandbox.Result {
		got <- inv.Request.HeaderKeys
		return generated(200, inv.Request.Header.Get("X-Api-Key"))
	}
	n := startNode(t, fr, nil)
	if err := n.Apply(context.Background(), snapshot(1, o.URL, "", &edgelabv1.Behavior{Functions: []*edgelabv1.Association{assoc(evVR, "vr")}}), nil); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("GET", n.URL()+"/k", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header["x-API-key"] = []string{"k1"} // sent as spelt
	req.Header["User-Agent"] = []string{"test"}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	keys := <-got
	if string(b) != "k1" || keys["X-Api-Key"] != "x-API-key" || len(keys) != 1 {
		t.Fatalf("body %q, HeaderKeys %v; want k1 and only X-Api-Key -> x-API-key", b, keys)
	}
}

// TestS3OriginThroughNode: a distribution S3 origin served by the sample
// origin's S3 mode: a GET is cached with the object's ETag and metadata,
// and a PUT with a body reaches it with its Content-Length (S3 refuses a
// chunked one with 411).
func TestS3OriginThroughNode(t *testing.T) {
	s3, err := origin.New(origin.Config{ID: "s3", S3Buckets: []string{"media"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s3.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; _ = s3.Close() })
	n := startNode(t, newFakeRunner(), nil)
	host := strings.TrimPrefix(s3.URL(), "http://")
	d := &edgelabv1.Distribution{Id: "d", Domains: []string{"*"}, Origins: []*edgelabv1.Origin{{Id: "bucket",
		S3: &edgelabv1.S3Origin{DomainName: host, Region: "eu-west-1", AuthMethod: "none", Path: "/media"}}},
		Behaviors: []*edgelabv1.Behavior{{Path: "default", Origin: "bucket", AllowedMethods: nil}}}
	if err := n.Apply(ctx, &edgelabv1.Snapshot{Revision: 1, Distributions: []*edgelabv1.Distribution{d}}, nil); err != nil {
		t.Fatal(err)
	}
	r := do(t, n, "GET", "/cats/1.jpg", nil, "")
	if r.status != 200 || r.body != "object media/cats/1.jpg from s3\n" || r.header.Get("ETag") == "" || r.header.Get("X-Amz-Meta-Bucket") != "media" {
		t.Fatalf("GET: %d %q %v", r.status, r.body, r.header)
	}
	if r := do(t, n, "GET", "/cats/1.jpg", nil, ""); xcache(r) != "Hit" {
		t.Fatalf("second GET: %q", xcache(r))
	}
	if r := do(t, n, "PUT", "/up.txt", nil, strings.Repeat("y", 100<<10)); r.status != 200 {
		t.Fatalf("PUT through the edge: %d %s", r.status, r.body)
	}
	if r := do(t, n, "GET", "/up.txt", nil, ""); r.status != 200 || len(r.body) != 100<<10 {
		t.Fatalf("GET after PUT: %d, %d bytes", r.status, len(r.body))
	}
}

// TestExampleS3OriginThroughNode runs examples/s3-origin in the real
// sandbox: /media/ is served by the S3-mode origin the custom origin's
// X-Media-Bucket header names, everything else by the custom origin.
func TestExampleS3OriginThroughNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sandbox workers")
	}
	s3, err := origin.New(origin.Config{ID: "s3", S3Buckets: []string{"media"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s3.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; _ = s3.Close() })
	web := startOrigin(t, "web")
	srcs, err := examples.Sources("s3-origin")
	if err != nil {
		t.Fatal(err)
	}
	fv := &edgelabv1.FunctionVersion{Name: "s3origin", Version: 1, Sha256: "s3origin"}
	for name, src := range srcs {
		fv.Files = append(fv.Files, &edgelabv1.SourceFile{Name: name, Content: src})
	}
	bucket := strings.TrimPrefix(s3.URL(), "http://") + "/media" // path-style: bucket "media"
	d := &edgelabv1.Distribution{Id: "d", Domains: []string{"*"},
		Origins:   []*edgelabv1.Origin{{Id: "web", Url: web.URL(), CustomHeaders: map[string]string{"X-Media-Bucket": bucket}}},
		Behaviors: []*edgelabv1.Behavior{{Path: "default", Origin: "web", Functions: []*edgelabv1.Association{assoc(evOReq, "s3origin")}}}}
	n := startNode(t, nil, func(c *Config) { c.Profile = shortProfile() })
	if err := n.Apply(ctx, &edgelabv1.Snapshot{Revision: 1, Distributions: []*edgelabv1.Distribution{d}, Functions: []*edgelabv1.FunctionVersion{fv}}, nil); err != nil {
		t.Fatal(err)
	}
	r := do(t, n, "GET", "/media/cat.jpg", nil, "")
	if r.status != 200 || r.body != "object media/media/cat.jpg from s3\n" || r.header.Get("X-Amz-Meta-Bucket") != "media" {
		t.Fatalf("/media/: %d %q %v", r.status, r.body, r.header)
	}
	if r := do(t, n, "GET", "/static/a.txt", nil, ""); r.status != 200 || !strings.Contains(r.body, "from web") {
		t.Fatalf("/static/: %d %q", r.status, r.body)
	}
}
