// Package devicecontent serves device-specific objects at origin-request:
// the CloudFront-Is-*-Viewer headers (added after viewer-request; name them
// in the cache policy) select a URI prefix.
package devicecontent

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

// Device returns "mobile", "tablet", "smarttv" or "desktop" from the
// CloudFront device headers.
func Device(req *edge.Request) string {
	switch {
	case req.Header.Get("CloudFront-Is-Mobile-Viewer") == "true":
		return "mobile"
	case req.Header.Get("CloudFront-Is-Tablet-Viewer") == "true":
		return "tablet"
	case req.Header.Get("CloudFront-Is-SmartTV-Viewer") == "true":
		return "smarttv"
	}
	return "desktop"
}

// OriginRequest prefixes the URI with the device type.
func OriginRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	req.URI = "/" + Device(req) + req.URI
	return nil, nil
}
