package edgenode

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

// Benchmarks report ns/op and req/s. "direct" runs the viewer front end's
// handler in-process on a request fasthttp has already parsed, as it
// does into a connection's reused buffers: the node's own cost per
// request, allocations included. "servehttp" goes through the net/http
// adapter (Node.ServeHTTP; the httptest request and recorder it builds
// per request count too); "http" goes over loopback with keep-alive
// clients.
//
//	go test -run '^$' -bench . -benchmem ./edgenode/

const benchJWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6NDEwMjQ0NDgwMH0.qRlbyNdlm8NKK6qruixbCq_HGTQfHHpTaGzC9JqMqVM"

const benchAddHeader = `package fn

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	req.Header.Set("X-Bench", "1")
	return nil, nil
}
`

const benchJWTCheck = `package fn

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

var key = edge.HS256Key([]byte("s3cret"))

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	if _, err := edge.VerifyJWT(edge.BearerToken(req.Header), key); err != nil {
		return edge.NewResponse(403, "Forbidden"), nil
	}
	return nil, nil
}
`

// benchNode starts a node with runner r (nil: the sandbox), one behavior
// with src at viewer-request (src "" = no function) in front of the sample origin.
func benchNode(b *testing.B, r sandbox.Runner, src string) *Node {
	b.Helper()
	o := startOrigin(b, "bench-origin")
	n := startNode(b, r, nil)
	beh := &edgelabv1.Behavior{Path: "default", Origin: "o1"}
	snap := &edgelabv1.Snapshot{Revision: 1, Distributions: []*edgelabv1.Distribution{{Id: "d", Domains: []string{"*"},
		Origins: []*edgelabv1.Origin{{Id: "o1", Url: o.URL()}}, Behaviors: []*edgelabv1.Behavior{beh}}}}
	if src != "" {
		beh.Functions = []*edgelabv1.Association{{EventType: evVR, Function: "fn", Version: 1}}
		snap.Functions = []*edgelabv1.FunctionVersion{{Name: "fn", Version: 1, Sha256: fmt.Sprint(len(src)),
			Files: []*edgelabv1.SourceFile{{Name: "fn.go", Content: []byte(src)}}}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.Apply(ctx, snap, nil); err != nil {
		b.Fatal(err)
	}
	return n
}

// runDirect serves path with hdr (and the headers Go's client sends) on the
// front end's handler, one parsed request and response per goroutine.
func runDirect(b *testing.B, n *Node, path string, hdr http.Header, wantStatus int) {
	b.Helper()
	raw := "GET " + path + " HTTP/1.1\r\nHost: bench.test\r\nUser-Agent: Go-http-client/1.1\r\nAccept-Encoding: gzip\r\n"
	for k, vs := range hdr {
		for _, v := range vs {
			raw += k + ": " + v + "\r\n"
		}
	}
	raw += "\r\n"
	newCtx := func() *fasthttp.RequestCtx {
		var req fasthttp.Request
		if err := req.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
			b.Fatal(err)
		}
		ctx := &fasthttp.RequestCtx{}
		ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
		return ctx
	}
	serve := func(ctx *fasthttp.RequestCtx) int {
		ctx.Response.Reset()
		n.viewer.serve(ctx)
		return ctx.Response.StatusCode()
	}
	// Warm the cache (and the function).
	if code := serve(newCtx()); code != wantStatus {
		b.Fatalf("warm-up: %d", code)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := newCtx()
		for pb.Next() {
			if code := serve(ctx); code != wantStatus {
				b.Errorf("status %d", code)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func runServeHTTP(b *testing.B, n *Node, path string, hdr http.Header, wantStatus int) {
	b.Helper()
	// Warm the cache (and the function).
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", path, nil)
	req.Header = hdr.Clone()
	n.ServeHTTP(rec, req)
	if rec.Code != wantStatus {
		b.Fatalf("warm-up: %d %s", rec.Code, rec.Body.String())
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", path, nil)
			req.Header = hdr.Clone()
			n.ServeHTTP(rec, req)
			if rec.Code != wantStatus {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func runHTTP(b *testing.B, n *Node, path string, hdr http.Header, wantStatus int) {
	b.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	get := func() (int, error) {
		req, _ := http.NewRequest("GET", n.URL()+path, nil)
		req.Header = hdr.Clone()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get(); err != nil || code != wantStatus {
		b.Fatalf("warm-up: %d %v", code, err)
	}
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if code, err := get(); err != nil || code != wantStatus {
				b.Errorf("status %d %v", code, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func BenchmarkHitNoFunction(b *testing.B) {
	n := benchNode(b, newFakeRunner(), "")
	b.Run("direct", func(b *testing.B) { runDirect(b, n, "/objects/1k?cc=max-age%3D3600", http.Header{}, 200) })
	b.Run("servehttp", func(b *testing.B) { runServeHTTP(b, n, "/objects/1k?cc=max-age%3D3600", http.Header{}, 200) })
	b.Run("http", func(b *testing.B) { runHTTP(b, n, "/objects/1k?cc=max-age%3D3600", http.Header{}, 200) })
}

func BenchmarkHitViewerRequestAddHeader(b *testing.B) {
	b.Run("sandbox", func(b *testing.B) {
		n := benchNode(b, nil, benchAddHeader)
		runDirect(b, n, "/objects/1k?cc=max-age%3D3600", http.Header{}, 200)
	})
	b.Run("inprocess", func(b *testing.B) {
		n := benchNode(b, sandbox.NewInProcess(sandbox.InProcessConfig{}), benchAddHeader)
		runDirect(b, n, "/objects/1k?cc=max-age%3D3600", http.Header{}, 200)
	})
}

func BenchmarkHitViewerRequestJWT(b *testing.B) {
	hdr := http.Header{"Authorization": {"Bearer " + benchJWT}}
	b.Run("sandbox", func(b *testing.B) {
		n := benchNode(b, nil, benchJWTCheck)
		runDirect(b, n, "/objects/1k?cc=max-age%3D3600", hdr, 200)
	})
	b.Run("inprocess", func(b *testing.B) {
		n := benchNode(b, sandbox.NewInProcess(sandbox.InProcessConfig{}), benchJWTCheck)
		runDirect(b, n, "/objects/1k?cc=max-age%3D3600", hdr, 200)
	})
}

func BenchmarkMissToOrigin(b *testing.B) {
	n := benchNode(b, newFakeRunner(), "")
	// no-store: every request is a miss through the tuned transport.
	b.Run("direct", func(b *testing.B) { runDirect(b, n, "/objects/1k?cc=no-store", http.Header{}, 200) })
	b.Run("http", func(b *testing.B) { runHTTP(b, n, "/objects/1k?cc=no-store", http.Header{}, 200) })
}
