package access

import (
	"context"
	"crypto/rand"
	"encoding/base64"
)

// TokenPrefix starts every token the lab issues, so a leaked one is easy to
// recognise (and to search for).
const TokenPrefix = "edgelab_"

// NewToken returns a fresh random token (256 bits).
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b) // crypto/rand.Read never fails
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// Token is a bearer token as gRPC per-call credentials. It requires
// transport security unless Insecure is set (a lab run with --insecure).
type Token struct {
	Value    string
	Insecure bool
}

// GetRequestMetadata sends the token as "authorization: Bearer <token>".
func (t Token) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + t.Value}, nil
}

// RequireTransportSecurity is true: a token never travels in plaintext
// unless the lab runs with --insecure.
func (t Token) RequireTransportSecurity() bool { return !t.Insecure }
