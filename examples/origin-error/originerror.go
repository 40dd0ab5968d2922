// Package originerror hides origin failures at origin-response: a 5xx from
// the origin becomes a 302 to the maintenance page for /app/ paths, and a
// friendly 200 page elsewhere, cached briefly.
package originerror

import (
	"context"
	"strings"

	"github.com/edgelab/edgelab/edge"
)

// MaintenancePath is where /app/ viewers are sent while the origin fails.
const MaintenancePath = "/maintenance.html"

const page = `<!DOCTYPE html>
<html><head><title>Back soon</title></head>
<body><h1>We'll be right back</h1><p>This page is temporarily unavailable.</p></body></html>
`

// OriginResponse rewrites origin errors.
func OriginResponse(ctx context.Context, req *edge.Request, resp *edge.Response) error {
	if resp.Status < 500 {
		return nil
	}
	edge.Logf(ctx, "origin-error: origin answered %d for %s", resp.Status, req.URI)
	if strings.HasPrefix(req.URI, "/app/") {
		resp.Status, resp.StatusDescription = 302, "Found"
		resp.Header.Set("Location", MaintenancePath)
		resp.Header.Set("Cache-Control", "max-age=10")
		return nil
	}
	resp.Status, resp.StatusDescription = 200, "OK"
	resp.Header.Set("Content-Type", "text/html; charset=utf-8")
	resp.Header.Set("Cache-Control", "max-age=10")
	resp.Body = []byte(page)
	return nil
}
