package signedurl

import (
	"crypto/rsa"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The error codes CloudFront answers a refused signed request with (403).
const (
	CodeMissingKey         = "MissingKey"
	CodeInvalidKey         = "InvalidKey"
	CodeMalformedSignature = "MalformedSignature"
	CodeMalformedPolicy    = "MalformedPolicy"
	CodeAccessDenied       = "AccessDenied"
)

var messages = map[string]string{
	CodeMissingKey:         "Missing Key-Pair-Id query parameter or cookie value",
	CodeInvalidKey:         "Unknown Key",
	CodeMalformedSignature: "Could not unencode Signature",
	CodeMalformedPolicy:    "Malformed Policy",
	CodeAccessDenied:       "Access denied",
}

// Error is a refused signed request: Code and Message are what CloudFront
// answers (its XML error body), Reason is the lab's detail, which CloudFront
// does not disclose.
type Error struct {
	Code, Message, Reason string
}

func (e *Error) Error() string { return e.Code + ": " + e.Reason }

func refuse(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: messages[code], Reason: fmt.Sprintf(format, args...)}
}

// XML is the body CloudFront sends with the error.
func (e *Error) XML() []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + e.Code + `</Code><Message>` + e.Message + `</Message></Error>`)
}

// Credentials are the signing values of one request, from its query
// string or its cookies, still encoded.
type Credentials struct {
	Expires, Policy, Signature, KeyPairID, HashAlgorithm string
}

// Present reports whether any signing value was given.
func (c Credentials) Present() bool {
	return c.Expires != "" || c.Policy != "" || c.Signature != "" || c.KeyPairID != ""
}

// FromQuery takes the signing parameters out of a raw query string. It
// returns them and the query without them (the other parameters in their
// order), which is what the canned resource, the cache key and the origin
// see. Names are case-sensitive; the first occurrence counts.
func FromQuery(rawQuery string) (c Credentials, rest string) {
	if rawQuery == "" {
		return c, ""
	}
	var kept []string
	for _, part := range strings.Split(rawQuery, "&") {
		name, val, _ := strings.Cut(part, "=")
		dst := c.field(name)
		if dst == nil {
			kept = append(kept, part)
			continue
		}
		if *dst == "" {
			if v, err := url.PathUnescape(val); err == nil {
				*dst = v
			} else {
				*dst = val
			}
		}
	}
	return c, strings.Join(kept, "&")
}

func (c *Credentials) field(name string) *string {
	switch name {
	case ParamExpires:
		return &c.Expires
	case ParamPolicy:
		return &c.Policy
	case ParamSignature:
		return &c.Signature
	case ParamKeyPairID:
		return &c.KeyPairID
	case ParamHashAlgorithm:
		return &c.HashAlgorithm
	}
	return nil
}

// FromCookies reads the CloudFront-* signing cookies from Cookie header
// values; the first occurrence of each counts.
func FromCookies(headers []string) Credentials {
	var c Credentials
	for _, h := range headers {
		for _, part := range strings.Split(h, ";") {
			name, val, _ := strings.Cut(strings.TrimSpace(part), "=")
			rest, ok := strings.CutPrefix(name, CookiePrefix)
			if !ok {
				continue
			}
			if dst := c.field(rest); dst != nil && *dst == "" {
				*dst = strings.Trim(val, `"`)
			}
		}
	}
	return c
}

// queryValue returns the first value of name in rawURL's query.
func queryValue(rawURL, name string) (string, bool) {
	_, q, ok := strings.Cut(rawURL, "?")
	if !ok {
		return "", false
	}
	for _, part := range strings.Split(q, "&") {
		if n, v, _ := strings.Cut(part, "="); n == name {
			return v, true
		}
	}
	return "", false
}

// maxSignatureBytes is a MaxKeyBits signature.
const maxSignatureBytes = MaxKeyBits / 8

// Verifier checks signed requests against the public keys of a behavior's
// trusted key groups. It is immutable and safe for concurrent use.
type Verifier struct {
	keys map[string]*rsa.PublicKey
}

// NewVerifier returns a verifier trusting keys, by Key-Pair-Id.
func NewVerifier(keys map[string]*rsa.PublicKey) *Verifier {
	v := &Verifier{keys: make(map[string]*rsa.PublicKey, len(keys))}
	for id, k := range keys {
		v.keys[id] = k
	}
	return v
}

// Verify checks c for a request for resourceURL (scheme://host/path?query,
// the query without the signing parameters) from ip at now: the key is
// trusted, the signature is over the policy (the canned one rebuilt from
// resourceURL and Expires, or the custom one in Policy), and the policy
// grants the request. The error is an *Error.
func (v *Verifier) Verify(c Credentials, resourceURL string, ip netip.Addr, now time.Time) error {
	if c.KeyPairID == "" {
		return refuse(CodeMissingKey, "no Key-Pair-Id")
	}
	key, ok := v.keys[c.KeyPairID]
	if !ok {
		return refuse(CodeInvalidKey, "key %q is not in the behavior's trusted key groups", c.KeyPairID)
	}
	sig, err := Decode(c.Signature, maxSignatureBytes)
	if err != nil || len(sig) == 0 {
		return refuse(CodeMalformedSignature, "Signature: %v", err)
	}
	hash, err := ParseHash(c.HashAlgorithm)
	if err != nil {
		return refuse(CodeAccessDenied, "%v", err)
	}
	policy, js, err := policyOf(c, resourceURL)
	if err != nil {
		return err
	}
	h, d := hash.digest(js)
	if err := rsa.VerifyPKCS1v15(key, h, d, sig); err != nil {
		return refuse(CodeAccessDenied, "the signature does not match the policy and key %q", c.KeyPairID)
	}
	if err := policy.Allows(resourceURL, ip, now); err != nil {
		return refuse(CodeAccessDenied, "%v", err)
	}
	return nil
}

// policyOf is the policy c carries and the bytes its signature covers.
func policyOf(c Credentials, resourceURL string) (*Policy, []byte, error) {
	if c.Policy != "" {
		js, err := Decode(c.Policy, MaxPolicyBytes)
		if err != nil {
			return nil, nil, refuse(CodeMalformedPolicy, "Policy: %v", err)
		}
		p, err := ParsePolicy(js)
		if err != nil {
			return nil, nil, refuse(CodeMalformedPolicy, "%v", err)
		}
		return p, js, nil
	}
	if c.Expires == "" {
		return nil, nil, refuse(CodeMalformedPolicy, "neither Expires (canned policy) nor Policy (custom policy)")
	}
	n, err := strconv.ParseInt(c.Expires, 10, 64)
	if err != nil || n < 0 || n > maxEpoch {
		return nil, nil, refuse(CodeMalformedPolicy, "Expires %q is not a number of seconds since 1970", c.Expires)
	}
	p := &Policy{Resource: resourceURL, Expires: time.Unix(n, 0)}
	return p, p.JSON(), nil
}
