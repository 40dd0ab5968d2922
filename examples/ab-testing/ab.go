// Package abtesting splits viewers between two experiment groups at
// viewer-request: a viewer keeps the group named in its "ab-group" cookie;
// a new viewer gets one at random (50/50). The group selects the object
// (/experiment/<group>/...) so each group is cached separately, and is
// passed to the origin as a cookie.
package abtesting

import (
	"context"
	"math/rand"

	"github.com/edgelab/edgelab/edge"
)

// CookieName holds the viewer's group.
const CookieName = "ab-group"

// ViewerRequest assigns the group and rewrites the URI.
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	group, ok := edge.Cookie(req.Header, CookieName)
	if !ok || (group != "a" && group != "b") {
		group = "a"
		if rand.Intn(2) == 1 {
			group = "b"
		}
		edge.AddRequestCookie(req.Header, CookieName, group)
	}
	req.URI = "/experiment/" + group + req.URI
	return nil, nil
}
