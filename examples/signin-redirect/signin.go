// Package signinredirect sends viewers without a session cookie to the
// sign-in page at viewer-request (302), remembering where they were going.
package signinredirect

import (
	"context"
	"net/url"
	"strings"

	"github.com/edgelab/edgelab/edge"
)

// SessionCookie names the session cookie.
const SessionCookie = "session"

// SigninPath is the sign-in page; it and /public/ are always reachable.
const SigninPath = "/signin"

// ViewerRequest redirects unauthenticated viewers.
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	if req.URI == SigninPath || strings.HasPrefix(req.URI, "/public/") {
		return nil, nil
	}
	if s, ok := edge.Cookie(req.Header, SessionCookie); ok && s != "" {
		return nil, nil
	}
	target := req.URI
	if req.QueryString != "" {
		target += "?" + req.QueryString
	}
	resp := edge.Redirect(302, SigninPath+"?redirect="+url.QueryEscape(target))
	resp.SetHeader("Cache-Control", "no-store")
	return resp, nil
}
