// Package jwtauth is the example flow everyone learns first: a
// viewer-request function that validates the bearer JWT (HS256 shared
// secret), forwards valid requests with the subject in X-User, and answers
// 403 Forbidden at once otherwise.
package jwtauth

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

// Secret is the workshop's shared HS256 secret. A real function would hold
// a public key (RS256/ES256) instead, so the edge cannot mint tokens.
const Secret = "edgelab-workshop-secret"

// key is built once per execution environment, not per request: like
// Lambda's, an interpreter is reused across invocations, so work done at
// package level (keys, parsed config) is paid on the cold start only.
var key = edge.HS256Key([]byte(Secret))

// ViewerRequest checks the Authorization header.
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	token := edge.BearerToken(req.Header)
	if token == "" {
		edge.Log(ctx, "jwt-auth: no bearer token for ", req.URI)
		return forbidden(), nil
	}
	claims, err := edge.VerifyJWT(token, key)
	if err != nil {
		edge.Log(ctx, "jwt-auth: rejected: ", err)
		return forbidden(), nil
	}
	req.Header.Set("X-User", claims.Subject())
	return nil, nil
}

func forbidden() *edge.Response {
	resp := edge.NewResponse(403, "Forbidden")
	resp.SetHeader("Cache-Control", "no-store")
	return resp
}
