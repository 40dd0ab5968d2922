// Package redirectbycountry redirects viewers to their country's site at
// origin-request: CloudFront adds CloudFront-Viewer-Country after the
// viewer-request event, so this runs on a cache miss (the behavior's cache
// policy must include the header so each country caches its own redirect).
package redirectbycountry

import (
	"context"
	"strings"

	"github.com/edgelab/edgelab/edge"
)

// sites maps ISO country codes to site prefixes.
var sites = map[string]string{
	"DE": "/de",
	"AT": "/de",
	"FR": "/fr",
	"JP": "/ja",
}

// OriginRequest redirects viewers from a mapped country to their site.
func OriginRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	prefix, ok := sites[strings.ToUpper(req.Header.Get("CloudFront-Viewer-Country"))]
	if !ok || req.URI == prefix || strings.HasPrefix(req.URI, prefix+"/") {
		return nil, nil
	}
	return edge.Redirect(302, prefix+req.URI), nil
}
