// Package redirect answers redirects at viewer-request: 301 for pages that
// moved for good, 302 for short links.
package redirect

import (
	"context"
	"strings"

	"github.com/edgelab/edgelab/edge"
)

// moved maps old paths to their permanent new location.
var moved = map[string]string{
	"/old-page.html": "/new-page.html",
	"/blog":          "/news",
}

// shortLinkPrefix starts a temporary short link: /go/<name>.
const shortLinkPrefix = "/go/"

// shortLinks maps short-link names to targets.
var shortLinks = map[string]string{
	"docs":       "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-at-the-edge.html",
	"cloudfront": "https://aws.amazon.com/cloudfront/",
}

// ViewerRequest redirects known paths and lets the rest through.
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	if to, ok := moved[req.URI]; ok {
		if req.QueryString != "" {
			to += "?" + req.QueryString
		}
		return edge.Redirect(301, to), nil
	}
	if strings.HasPrefix(req.URI, shortLinkPrefix) {
		if to, ok := shortLinks[strings.TrimPrefix(req.URI, shortLinkPrefix)]; ok {
			return edge.Redirect(302, to), nil
		}
		return edge.NewResponse(404, "unknown short link"), nil
	}
	return nil, nil
}
