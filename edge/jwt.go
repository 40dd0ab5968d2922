package edge

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
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
	return JWTKey{alg: "HS256", key: append([]byte(nil), secret...)}
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
func VerifyJWTWith(token string, key JWTKey, opts JWTOptions) (Claims, error) {
	if key.alg == "" || key.key == nil {
		return nil, fmt.Errorf("%w: no verification key", ErrTokenInvalid)
	}
	popts := []jwt.ParserOption{jwt.WithValidMethods([]string{key.alg})}
	if opts.Issuer != "" {
		popts = append(popts, jwt.WithIssuer(opts.Issuer))
	}
	if opts.Audience != "" {
		popts = append(popts, jwt.WithAudience(opts.Audience))
	}
	if opts.RequireExpiry {
		popts = append(popts, jwt.WithExpirationRequired())
	}
	if opts.Leeway > 0 {
		popts = append(popts, jwt.WithLeeway(opts.Leeway))
	}
	if !opts.Now.IsZero() {
		now := opts.Now
		popts = append(popts, jwt.WithTimeFunc(func() time.Time { return now }))
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return key.key, nil }, popts...)
	if err != nil {
		return nil, classifyJWTError(err)
	}
	return Claims(claims), nil
}

func classifyJWTError(err error) error {
	var kind error
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		kind = ErrTokenMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		kind = ErrTokenSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		kind = ErrTokenExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		kind = ErrTokenNotYetValid
	default:
		kind = ErrTokenInvalid
	}
	return fmt.Errorf("%w (%v)", kind, err)
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
