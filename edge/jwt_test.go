package edge_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/edgelab/edgelab/edge"
)

func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func TestVerifyJWT(t *testing.T) {
	secret := []byte("s3cret")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaDER})
	ecDER, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER})
	rsaPub, err := edge.ParseRSAPublicKeyPEM(rsaPEM)
	if err != nil {
		t.Fatal(err)
	}
	ecPub, err := edge.ParseECPublicKeyPEM(ecPEM)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := edge.ParseECPublicKeyPEM(rsaPEM); err == nil {
		t.Error("ParseECPublicKeyPEM accepted an RSA key")
	}
	if _, err := edge.ParseRSAPublicKeyPEM([]byte("garbage")); err == nil {
		t.Error("ParseRSAPublicKeyPEM accepted garbage")
	}

	now := time.Now()
	good := jwt.MapClaims{"sub": "alice", "exp": now.Add(time.Hour).Unix()}
	tests := []struct {
		name    string
		token   string
		key     edge.JWTKey
		wantErr error
	}{
		{"hs256 ok", sign(t, jwt.SigningMethodHS256, secret, good), edge.HS256Key(secret), nil},
		{"rs256 ok", sign(t, jwt.SigningMethodRS256, rsaKey, good), edge.RS256Key(rsaPub), nil},
		{"es256 ok", sign(t, jwt.SigningMethodES256, ecKey, good), edge.ES256Key(ecPub), nil},
		{"no exp ok", sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "alice"}), edge.HS256Key(secret), nil},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, []byte("other"), good), edge.HS256Key(secret), edge.ErrTokenSignature},
		{"expired", sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "alice", "exp": now.Add(-time.Minute).Unix()}), edge.HS256Key(secret), edge.ErrTokenExpired},
		{"not yet valid", sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "alice", "nbf": now.Add(time.Hour).Unix()}), edge.HS256Key(secret), edge.ErrTokenNotYetValid},
		{"alg confusion hs256 for rsa key", sign(t, jwt.SigningMethodHS256, rsaPEM, good), edge.RS256Key(rsaPub), edge.ErrTokenSignature},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good), edge.HS256Key(secret), edge.ErrTokenSignature},
		{"malformed", "not.a.jwt", edge.HS256Key(secret), edge.ErrTokenMalformed},
		{"empty", "", edge.HS256Key(secret), edge.ErrTokenMalformed},
		{"zero key", sign(t, jwt.SigningMethodHS256, secret, good), edge.JWTKey{}, edge.ErrTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := edge.VerifyJWT(tt.token, tt.key)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("VerifyJWT: %v", err)
				}
				if claims.Subject() != "alice" {
					t.Errorf("sub = %q, want alice", claims.Subject())
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("VerifyJWT err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestVerifyJWTWith(t *testing.T) {
	secret := []byte("k")
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"iss": "me", "aud": "app", "exp": base.Unix()})
	tests := []struct {
		name    string
		opts    edge.JWTOptions
		wantErr error
	}{
		{"before exp", edge.JWTOptions{Now: base.Add(-time.Second)}, nil},
		{"after exp", edge.JWTOptions{Now: base.Add(time.Minute)}, edge.ErrTokenExpired},
		{"after exp within leeway", edge.JWTOptions{Now: base.Add(time.Minute), Leeway: 2 * time.Minute}, nil},
		{"issuer ok", edge.JWTOptions{Now: base.Add(-time.Second), Issuer: "me"}, nil},
		{"issuer bad", edge.JWTOptions{Now: base.Add(-time.Second), Issuer: "you"}, edge.ErrTokenInvalid},
		{"audience bad", edge.JWTOptions{Now: base.Add(-time.Second), Audience: "other"}, edge.ErrTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := edge.VerifyJWTWith(tok, edge.HS256Key(secret), tt.opts)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if exp, ok := claims.Time("exp"); !ok || !exp.Equal(base) {
					t.Errorf("exp = %v %v, want %v", exp, ok, base)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	noExp := sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "x"})
	if _, err := edge.VerifyJWTWith(noExp, edge.HS256Key(secret), edge.JWTOptions{RequireExpiry: true}); !errors.Is(err, edge.ErrTokenInvalid) {
		t.Errorf("RequireExpiry: err = %v, want ErrTokenInvalid", err)
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct{ header, want string }{
		{"Bearer abc.def.ghi", "abc.def.ghi"},
		{"bearer   tok ", "tok"},
		{"BEARER x", "x"},
		{"Basic dXNlcjpwYXNz", ""},
		{"Bearer", ""},
		{"Bearer ", ""},
		{"", ""},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.header != "" {
			h.Set("Authorization", tt.header)
		}
		if got := edge.BearerToken(h); got != tt.want {
			t.Errorf("BearerToken(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestHS256KeyCopiesSecret(t *testing.T) {
	secret := []byte("abc")
	key := edge.HS256Key(secret)
	tok := sign(t, jwt.SigningMethodHS256, []byte("abc"), jwt.MapClaims{"sub": "alice"})
	copy(secret, "zzz")
	if _, err := edge.VerifyJWT(tok, key); err != nil {
		t.Fatalf("key changed with caller's slice: %v", err)
	}
	if key.Algorithm() != "HS256" || !strings.HasPrefix(edge.RS256Key(nil).Algorithm(), "RS") {
		t.Error("Algorithm mismatch")
	}
}
