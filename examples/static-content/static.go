// Package staticcontent answers at viewer-request with a page generated at
// the edge; the origin is never contacted.
package staticcontent

import (
	"context"
	"fmt"
	"html"

	"github.com/edgelab/edgelab/edge"
)

// ViewerRequest generates the page.
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	info := edge.InfoFrom(ctx)
	page := fmt.Sprintf(`<!DOCTYPE html>
<html><head><title>Hello from the edge</title></head>
<body><h1>Hello from the edge</h1>
<p>Path %s served by %s in %s.</p></body></html>
`, html.EscapeString(req.URI), html.EscapeString(info.PoP), html.EscapeString(info.Region))
	resp := edge.HTMLResponse(200, page)
	resp.SetHeader("Cache-Control", "max-age=100")
	return resp, nil
}
