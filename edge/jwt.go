package edge

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWT verification errors. VerifyJWT wraps exactly one of them, so callers
// branch with errors.Is.
var (
	// ErrTokenMalformed: the token is not three base64url segments of JSON.
	ErrTokenMalformed = errors.New("jwt: malformed token")
	// ErrTokenSignature: the signature does not verify or the algorithm is not the key's.
	ErrTokenSignature = errors.New("jwt: invalid signature")
	// ErrTokenExpired: the exp claim is in the past.
	ErrTokenExpired = errors.New("jwt: token expired")
	// ErrTokenNotYetValid: the nbf claim is in the future.
	ErrTokenNotYetValid = errors.New("jwt: token not valid yet")
	// ErrTokenInvalid: any other reason (bad issuer, audience, missing exp when required, ...).
	ErrTokenInvalid = errors.New("jwt: invalid token")
)

// JWTKey is a verification key bound to one algorithm (HS256, RS256 or
// ES256). Build it with HS256Key, RS256Key or ES256Key; the zero value
// verifies nothing. Binding the algorithm to the key prevents algorithm
// confusion (a token signed "HS256" with an RSA public key as secret).
type JWTKey struct {
	alg string
	key any
}

// Algorithm returns the JWS algorithm the key verifies ("" for the zero key).
func (k JWTKey) Algorithm() string { return k.alg }

// HS256Key returns a key verifying HMAC-SHA256 tokens signed with secret.
func HS256Key(secret []byte) JWTKey {
	return JWTKey{alg: "HS256", key: newHMACKey(secret)}
}

// hmacKey is an HS256 secret with a pool of HMAC states already keyed
// with it: a verification resets a pooled state (a copy of the keyed
// inner state) instead of hashing the key into two new SHA-256 states.
// Keys are built once per execution environment, as the examples do, and
// used by every invocation; the pool is safe for concurrent use.
type hmacKey struct {
	secret []byte
	pool   sync.Pool // of hash.Hash
}

func newHMACKey(secret []byte) *hmacKey {
	k := &hmacKey{secret: append([]byte(nil), secret...)}
	k.pool.New = func() any { return hmac.New(sha256.New, k.secret) }
	return k
}

// verify reports whether sig is the HMAC-SHA256 of msg.
func (k *hmacKey) verify(msg string, sig []byte) bool {
	mac := k.pool.Get().(hash.Hash)
	mac.Reset()
	mac.Write([]byte(msg))
	var sum [sha256.Size]byte
	ok := hmac.Equal(sig, mac.Sum(sum[:0]))
	k.pool.Put(mac)
	return ok
}

// RS256Key returns a key verifying RSA PKCS#1 v1.5 SHA-256 tokens.
func RS256Key(pub *rsa.PublicKey) JWTKey { return JWTKey{alg: "RS256", key: pub} }

// ES256Key returns a key verifying ECDSA P-256 SHA-256 tokens.
func ES256Key(pub *ecdsa.PublicKey) JWTKey { return JWTKey{alg: "ES256", key: pub} }

// ParseRSAPublicKeyPEM parses a PEM "PUBLIC KEY" (PKIX), "RSA PUBLIC KEY"
// (PKCS#1) or "CERTIFICATE" block holding an RSA public key.
func ParseRSAPublicKeyPEM(data []byte) (*rsa.PublicKey, error) {
	pub, err := parsePublicKeyPEM(data)
	if err != nil {
		return nil, err
	}
	k, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("parse RSA public key: PEM holds a %T, not an RSA key", pub)
	}
	return k, nil
}

// ParseECPublicKeyPEM parses a PEM "PUBLIC KEY" (PKIX) or "CERTIFICATE"
// block holding an ECDSA public key.
func ParseECPublicKeyPEM(data []byte) (*ecdsa.PublicKey, error) {
	pub, err := parsePublicKeyPEM(data)
	if err != nil {
		return nil, err
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("parse EC public key: PEM holds a %T, not an ECDSA key", pub)
	}
	return k, nil
}

func parsePublicKeyPEM(data []byte) (any, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("parse public key: no PEM block found")
	}
	switch block.Type {
	case "PUBLIC KEY":
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %w", err)
		}
		return pub, nil
	case "RSA PUBLIC KEY":
		pub, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse RSA public key: %w", err)
		}
		return pub, nil
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		return cert.PublicKey, nil
	}
	return nil, fmt.Errorf("parse public key: unsupported PEM block %q", block.Type)
}

// Claims are a verified token's claims, decoded from JSON (numbers are float64).
type Claims map[string]any

// String returns the named claim if it is a string, else "".
func (c Claims) String(name string) string {
	s, _ := c[name].(string)
	return s
}

// Subject returns the "sub" claim.
func (c Claims) Subject() string { return c.String("sub") }

// Time returns a NumericDate claim such as "exp" or "iat".
func (c Claims) Time(name string) (time.Time, bool) {
	f, ok := c[name].(float64)
	if !ok {
		return time.Time{}, false
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), true
}

// JWTOptions tightens VerifyJWTWith. The zero value checks only the
// signature, exp and nbf (when present) against the current time.
type JWTOptions struct {
	// Issuer, when set, must equal the "iss" claim.
	Issuer string
	// Audience, when set, must be one of the "aud" claim's values.
	Audience string
	// RequireExpiry rejects tokens without an "exp" claim.
	RequireExpiry bool
	// Leeway is the clock skew allowed on exp and nbf (0: none).
	Leeway time.Duration
	// Now is the verification time (zero: time.Now()).
	Now time.Time
}

// VerifyJWT verifies a compact JWS token with key and returns its claims.
// The token's alg header must be the key's algorithm; exp and nbf are
// checked when present. Errors wrap one of the ErrToken* values.
func VerifyJWT(token string, key JWTKey) (Claims, error) {
	return VerifyJWTWith(token, key, JWTOptions{})
}

// VerifyJWTWith is VerifyJWT with extra checks (issuer, audience, required
// expiry, leeway, a fixed clock).
//
// The token is split and base64url-decoded (no padding) by hand, the
// header's alg must equal the key's, and the signature is checked before the
// payload's JSON is decoded. Flat JSON objects of plain values (the usual
// header and claims) are decoded by a small strict scanner; anything else
// (escapes, non-ASCII, nesting) goes through encoding/json. Checks match
// golang-jwt's MapClaims validation, except that a payload that is not a
// JSON object (such as "null") is rejected as malformed.
func VerifyJWTWith(token string, key JWTKey, opts JWTOptions) (Claims, error) {
	if key.alg == "" || key.key == nil || isNilKey(key.key) {
		return nil, fmt.Errorf("%w: no verification key", ErrTokenInvalid)
	}
	h64, rest, ok := strings.Cut(token, ".")
	if !ok {
		return nil, jwtErr(ErrTokenMalformed, "token contains an invalid number of segments")
	}
	p64, s64, ok := strings.Cut(rest, ".")
	if !ok || strings.IndexByte(s64, '.') >= 0 {
		return nil, jwtErr(ErrTokenMalformed, "token contains an invalid number of segments")
	}
	enc := base64.RawURLEncoding
	// One allocation holds the decoded header, payload and signature. It is
	// a heap buffer on purpose: a large stack array grows the frame enough
	// that the interpreter's goroutines copy their stacks on every call
	// (measured: verify cost through yaegi roughly doubles with 1 KiB).
	buf := make([]byte, enc.DecodedLen(len(h64))+enc.DecodedLen(len(p64))+enc.DecodedLen(len(s64)))
	n, err := enc.Decode(buf, []byte(h64))
	if err != nil {
		return nil, jwtErr(ErrTokenMalformed, "could not base64 decode header")
	}
	header, buf := buf[:n:n], buf[n:]
	if n, err = enc.Decode(buf, []byte(p64)); err != nil {
		return nil, jwtErr(ErrTokenMalformed, "could not base64 decode claim")
	}
	payload, buf := buf[:n:n], buf[n:]
	alg, err := headerAlg(header)
	if err != nil {
		return nil, err
	}
	if alg != key.alg {
		return nil, jwtErr(ErrTokenSignature, "signing method "+strconv.Quote(alg)+" is not the key's "+key.alg)
	}
	if n, err = enc.Decode(buf, []byte(s64)); err != nil {
		return nil, jwtErr(ErrTokenMalformed, "could not base64 decode signature")
	}
	sig := buf[:n:n]
	signed := token[:len(h64)+1+len(p64)]
	if err := verifySignature(key, signed, sig); err != nil {
		return nil, err
	}
	claims := make(Claims, 8)
	if !fastObject(payload, claims) {
		clear(claims)
		// encoding/json may keep the slice it decodes from: hand it a copy
		// so the claims never alias the decode buffer.
		if err := json.Unmarshal(bytes.Clone(payload), &claims); err != nil {
			return nil, jwtErr(ErrTokenMalformed, "could not JSON decode claim: "+err.Error())
		}
		if claims == nil {
			return nil, jwtErr(ErrTokenMalformed, "claims are not a JSON object")
		}
	}
	if err := validateClaims(claims, opts); err != nil {
		return nil, err
	}
	return claims, nil
}

// jwtErr wraps kind with a detail message.
func jwtErr(kind error, detail string) error {
	return fmt.Errorf("%w (%s)", kind, detail)
}

// isNilKey reports a typed nil public key (RS256Key(nil)).
func isNilKey(k any) bool {
	switch k := k.(type) {
	case *rsa.PublicKey:
		return k == nil
	case *ecdsa.PublicKey:
		return k == nil
	case *hmacKey:
		return k == nil
	}
	return false
}

// headerAlg returns the header's "alg" string. A header that is not a JSON
// object is malformed; a missing or non-string alg fails as a signature
// error (the token cannot be verified), as golang-jwt classifies it.
func headerAlg(header []byte) (string, error) {
	// The common headers, compared without decoding.
	for _, alg := range [...]string{"HS256", "RS256", "ES256"} {
		if string(header) == `{"alg":"`+alg+`","typ":"JWT"}` || string(header) == `{"typ":"JWT","alg":"`+alg+`"}` {
			return alg, nil
		}
	}
	h := make(map[string]any, 4)
	if !fastObject(header, h) {
		clear(h)
		if err := json.Unmarshal(bytes.Clone(header), &h); err != nil {
			return "", jwtErr(ErrTokenMalformed, "could not JSON decode header: "+err.Error())
		}
	}
	alg, ok := h["alg"].(string)
	if !ok {
		return "", jwtErr(ErrTokenSignature, "signing method (alg) is unspecified")
	}
	return alg, nil
}

// verifySignature checks sig over signed with key (whose alg the header
// already matched).
func verifySignature(key JWTKey, signed string, sig []byte) error {
	switch key.alg {
	case "HS256":
		k, ok := key.key.(*hmacKey)
		if !ok {
			return jwtErr(ErrTokenInvalid, "HS256 key is not a secret")
		}
		if !k.verify(signed, sig) {
			return jwtErr(ErrTokenSignature, "signature is invalid")
		}
		return nil
	case "RS256", "ES256":
		m := jwt.GetSigningMethod(key.alg)
		if err := m.Verify(signed, bytes.Clone(sig), key.key); err != nil {
			return fmt.Errorf("%w (%v)", ErrTokenSignature, err)
		}
		return nil
	}
	return jwtErr(ErrTokenInvalid, "unsupported algorithm "+key.alg)
}

// validateClaims applies golang-jwt's MapClaims rules: exp and nbf when
// present (0 counts as absent; a non-number is invalid), then the options.
// When several checks fail, expired wins over not-yet-valid over invalid.
func validateClaims(c Claims, opts JWTOptions) error {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	leeway := max(opts.Leeway, 0)
	var expired, notYet bool
	var invalid string
	exp, hasExp, ok := numericDate(c, "exp")
	switch {
	case !ok:
		invalid = "exp is invalid"
	case !hasExp && opts.RequireExpiry:
		invalid = "exp claim is required"
	case hasExp && !now.Before(exp.Add(leeway)):
		expired = true
	}
	nbf, hasNbf, ok := numericDate(c, "nbf")
	switch {
	case !ok:
		invalid = "nbf is invalid"
	case hasNbf && now.Before(nbf.Add(-leeway)):
		notYet = true
	}
	if opts.Audience != "" {
		if msg := checkAudience(c, opts.Audience); msg != "" {
			invalid = msg
		}
	}
	if opts.Issuer != "" {
		raw, present := c["iss"]
		iss, isStr := raw.(string)
		switch {
		case present && !isStr:
			invalid = "iss is invalid"
		case iss == "":
			invalid = "iss claim is required"
		case iss != opts.Issuer:
			invalid = "token has invalid issuer"
		}
	}
	switch {
	case expired:
		return jwtErr(ErrTokenExpired, "token is expired")
	case notYet:
		return jwtErr(ErrTokenNotYetValid, "token is not valid yet")
	case invalid != "":
		return jwtErr(ErrTokenInvalid, invalid)
	}
	return nil
}

// numericDate reads a NumericDate claim the way golang-jwt does: absent or 0
// is "not set", a float64 is seconds truncated to the second, anything else
// is invalid (ok false).
func numericDate(c Claims, name string) (t time.Time, set, ok bool) {
	v, present := c[name]
	if !present {
		return time.Time{}, false, true
	}
	f, isNum := v.(float64)
	if !isNum {
		return time.Time{}, false, false
	}
	if f == 0 {
		return time.Time{}, false, true
	}
	round, frac := math.Modf(f)
	return time.Unix(int64(round), int64(frac*1e9)).Truncate(time.Second), true, true
}

// checkAudience returns "" when want is one of the aud claim's values (a
// string or an array of strings), else why not.
func checkAudience(c Claims, want string) string {
	var aud []string
	switch v := c["aud"].(type) {
	case string:
		aud = []string{v}
	case []any:
		for _, a := range v {
			s, ok := a.(string)
			if !ok {
				return "aud is invalid"
			}
			aud = append(aud, s)
		}
	}
	if len(aud) == 0 || len(aud) == 1 && aud[0] == "" {
		return "aud claim is required"
	}
	if slices.Contains(aud, want) {
		return ""
	}
	return "token has invalid audience"
}

// fastObject decodes b into m when b is a JSON object whose values are
// plain strings (printable ASCII, no escapes), numbers, true, false, null
// or flat arrays of those. It returns false, with m partly filled, for
// anything else, valid or not: the caller then clears m and falls back to
// encoding/json, which also produces the error for invalid JSON. Duplicate
// keys keep the last value, as encoding/json does.
func fastObject(b []byte, m map[string]any) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipWS(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		key, j, ok := fastString(b, i)
		if !ok {
			return false
		}
		i = skipWS(b, j)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipWS(b, i+1)
		var v any
		if i < len(b) && b[i] == '[' {
			v, j, ok = fastArray(b, i)
		} else {
			v, j, ok = fastScalar(b, i)
		}
		if !ok {
			return false
		}
		m[key] = v
		i = skipWS(b, j)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return skipWS(b, i+1) == len(b)
		default:
			return false
		}
	}
}

// fastArray decodes a flat array of scalars starting at b[i] == '['.
func fastArray(b []byte, i int) (any, int, bool) {
	out := make([]any, 0, 4)
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return out, i + 1, true
	}
	for {
		v, j, ok := fastScalar(b, i)
		if !ok {
			return nil, 0, false
		}
		out = append(out, v)
		i = skipWS(b, j)
		if i >= len(b) {
			return nil, 0, false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case ']':
			return out, i + 1, true
		default:
			return nil, 0, false
		}
	}
}

// fastScalar decodes a plain string, number, true, false or null at b[i].
func fastScalar(b []byte, i int) (any, int, bool) {
	if i >= len(b) {
		return nil, 0, false
	}
	switch c := b[i]; {
	case c == '"':
		s, j, ok := fastString(b, i)
		return s, j, ok
	case c == 't':
		return true, i + 4, bytes.HasPrefix(b[i:], []byte("true"))
	case c == 'f':
		return false, i + 5, bytes.HasPrefix(b[i:], []byte("false"))
	case c == 'n':
		return nil, i + 4, bytes.HasPrefix(b[i:], []byte("null"))
	case c == '-' || '0' <= c && c <= '9':
		j, ok := scanNumber(b, i)
		if !ok {
			return nil, 0, false
		}
		f, err := strconv.ParseFloat(string(b[i:j]), 64)
		if err != nil { // out of range: encoding/json reports it
			return nil, 0, false
		}
		return f, j, true
	}
	return nil, 0, false
}

// fastString returns the string starting at b[i] == '"' when it holds only
// printable ASCII without escapes, and the index after its closing quote.
func fastString(b []byte, i int) (string, int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return string(b[i+1 : j]), j + 1, true
		case c < 0x20 || c >= 0x80 || c == '\\':
			return "", 0, false
		}
	}
	return "", 0, false
}

// scanNumber returns the end of the JSON number at b[i]
// (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?).
func scanNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i)
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header (scheme matched case-insensitively), or "" when there is none.
func BearerToken(h http.Header) string {
	v := strings.TrimSpace(h.Get("Authorization"))
	const scheme = "bearer "
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return ""
	}
	return strings.TrimSpace(v[len(scheme):])
}
