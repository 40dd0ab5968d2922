// Package securityheaders adds the usual security headers (HSTS, CSP,
// X-Content-Type-Options, X-Frame-Options, Referrer-Policy) to responses.
// Associate OriginResponse to have them cached with the object, or
// ViewerResponse to add them on every response, hits included.
package securityheaders

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

// headers are set unless the origin already set them.
var headers = [][2]string{
	{"Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload"},
	{"Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'"},
	{"X-Content-Type-Options", "nosniff"},
	{"X-Frame-Options", "DENY"},
	{"Referrer-Policy", "strict-origin-when-cross-origin"},
}

func addHeaders(resp *edge.Response) {
	for _, h := range headers {
		if resp.Header.Get(h[0]) == "" {
			resp.SetHeader(h[0], h[1])
		}
	}
}

// OriginResponse adds the headers before the response is cached.
func OriginResponse(ctx context.Context, req *edge.Request, resp *edge.Response) error {
	addHeaders(resp)
	return nil
}

// ViewerResponse adds the headers on the way to the viewer.
func ViewerResponse(ctx context.Context, req *edge.Request, resp *edge.Response) error {
	addHeaders(resp)
	return nil
}
