// Package hello2 is version 2 of the lab's sample `hello` function (lab 7):
// the same page generated at viewer-request, with a new text, so a viewer
// can tell which version the edge that served them runs.
package hello2

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
<html><head><title>Hello again</title></head>
<body><h1>Hello again from the edge (v2)</h1>
<p>Path %s served by %s in %s.</p></body></html>
`, html.EscapeString(req.URI), html.EscapeString(info.PoP), html.EscapeString(info.Region))
	resp := edge.HTMLResponse(200, page)
	resp.SetHeader("Cache-Control", "max-age=100")
	return resp, nil
}
