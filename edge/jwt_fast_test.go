package edge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// verifyJWTReference is the previous golang-jwt implementation of
// VerifyJWTWith: the oracle for the fuzz target and the "before" benchmark.
func verifyJWTReference(token string, key JWTKey, opts JWTOptions) (Claims, error) {
	if key.alg == "" || key.key == nil {
		return nil, ErrTokenInvalid
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
	vkey := key.key
	if k, ok := vkey.(*hmacKey); ok {
		vkey = k.secret // golang-jwt wants the HMAC secret itself
	}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return vkey, nil }, popts...)
	if err != nil {
		return nil, err
	}
	return Claims(claims), nil
}

var jwtKinds = []error{ErrTokenMalformed, ErrTokenSignature, ErrTokenExpired, ErrTokenNotYetValid, ErrTokenInvalid}

// jwtKind returns the one ErrToken* err wraps, failing when it wraps none or several.
func jwtKind(t testing.TB, err error) error {
	t.Helper()
	var kind error
	for _, k := range jwtKinds {
		if errors.Is(err, k) {
			if kind != nil {
				t.Fatalf("%v wraps both %v and %v", err, kind, k)
			}
			kind = k
		}
	}
	if kind == nil {
		t.Fatalf("%v wraps no ErrToken* error", err)
	}
	return kind
}

// rawToken assembles a token from raw header and payload JSON, signed
// HS256 with secret (whatever the header says).
func rawToken(header, payload string, secret []byte) string {
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	sig, err := jwt.SigningMethodHS256.Sign(signed, secret)
	if err != nil {
		panic(err)
	}
	return signed + "." + enc.EncodeToString(sig)
}

func TestVerifyJWTFastPath(t *testing.T) {
	secret := []byte("fast-secret")
	key := HS256Key(secret)
	now := time.Unix(1_900_000_000, 0)
	hs := `{"alg":"HS256","typ":"JWT"}`
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsTok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "alice"}).SignedString(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"sub": "alice"}).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "alice"}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	good := rawToken(hs, `{"sub":"alice","exp":1900000060}`, secret)
	tampered := []byte(good)
	if tampered[len(tampered)-3] == 'A' {
		tampered[len(tampered)-3] = 'B'
	} else {
		tampered[len(tampered)-3] = 'A'
	}
	huge := rawToken(hs, `{"sub":"alice","pad":"`+strings.Repeat("x", 1<<20)+`"}`, secret)

	tests := []struct {
		name    string
		token   string
		opts    JWTOptions
		wantErr error
		wantSub string
	}{
		{"ok", good, JWTOptions{Now: now}, nil, "alice"},
		{"ok typ first", rawToken(`{"typ":"JWT","alg":"HS256"}`, `{"sub":"alice"}`, secret), JWTOptions{}, nil, "alice"},
		{"ok header with kid", rawToken(`{"alg":"HS256","kid":"k1"}`, `{"sub":"alice"}`, secret), JWTOptions{}, nil, "alice"},
		{"ok escaped sub via encoding/json", rawToken(hs, `{"sub":"al\u0069ce"}`, secret), JWTOptions{}, nil, "alice"},
		{"ok nested claim via encoding/json", rawToken(hs, `{"sub":"alice","ctx":{"a":[1,{"b":2}]}}`, secret), JWTOptions{}, nil, "alice"},
		{"ok whitespace", rawToken(hs, " {\n\t\"sub\" : \"alice\" ,\"n\":[ 1 , -2.5e3 ] }\r\n", secret), JWTOptions{}, nil, "alice"},
		{"duplicate keys last wins", rawToken(hs, `{"sub":"mallory","sub":"alice"}`, secret), JWTOptions{}, nil, "alice"},
		{"duplicate exp last wins", rawToken(hs, `{"sub":"alice","exp":1,"exp":1900000060}`, secret), JWTOptions{Now: now}, nil, "alice"},
		{"huge token ok", huge, JWTOptions{}, nil, "alice"},
		{"tampered signature", string(tampered), JWTOptions{Now: now}, ErrTokenSignature, ""},
		{"truncated signature", good[:len(good)-4], JWTOptions{Now: now}, ErrTokenSignature, ""},
		{"alg none", none, JWTOptions{}, ErrTokenSignature, ""},
		{"alg none with hs256 signature", rawToken(`{"alg":"none"}`, `{"sub":"alice"}`, secret), JWTOptions{}, ErrTokenSignature, ""},
		{"alg lowercase", rawToken(`{"alg":"hs256"}`, `{"sub":"alice"}`, secret), JWTOptions{}, ErrTokenSignature, ""},
		{"alg missing", rawToken(`{"typ":"JWT"}`, `{"sub":"alice"}`, secret), JWTOptions{}, ErrTokenSignature, ""},
		{"alg not a string", rawToken(`{"alg":256}`, `{"sub":"alice"}`, secret), JWTOptions{}, ErrTokenSignature, ""},
		{"alg HS512 with HS256 key", hs512, JWTOptions{}, ErrTokenSignature, ""},
		{"RS256 token against HS256 key", rsTok, JWTOptions{}, ErrTokenSignature, ""},
		{"expired", rawToken(hs, `{"sub":"alice","exp":1899999999}`, secret), JWTOptions{Now: now}, ErrTokenExpired, ""},
		{"expired at exactly exp", rawToken(hs, `{"sub":"alice","exp":1900000000}`, secret), JWTOptions{Now: now}, ErrTokenExpired, ""},
		{"expired within leeway", rawToken(hs, `{"sub":"alice","exp":1899999990}`, secret), JWTOptions{Now: now, Leeway: time.Minute}, nil, "alice"},
		{"nbf in future", rawToken(hs, `{"sub":"alice","nbf":1900000100}`, secret), JWTOptions{Now: now}, ErrTokenNotYetValid, ""},
		{"nbf now", rawToken(hs, `{"sub":"alice","nbf":1900000000}`, secret), JWTOptions{Now: now}, nil, "alice"},
		{"exp not a number", rawToken(hs, `{"sub":"alice","exp":"tomorrow"}`, secret), JWTOptions{Now: now}, ErrTokenInvalid, ""},
		{"exp null", rawToken(hs, `{"sub":"alice","exp":null}`, secret), JWTOptions{Now: now}, ErrTokenInvalid, ""},
		{"exp required missing", rawToken(hs, `{"sub":"alice"}`, secret), JWTOptions{Now: now, RequireExpiry: true}, ErrTokenInvalid, ""},
		{"aud array match", rawToken(hs, `{"sub":"alice","aud":["x","app"]}`, secret), JWTOptions{Audience: "app"}, nil, "alice"},
		{"aud array miss", rawToken(hs, `{"sub":"alice","aud":["x","y"]}`, secret), JWTOptions{Audience: "app"}, ErrTokenInvalid, ""},
		{"aud array non-string", rawToken(hs, `{"sub":"alice","aud":["app",1]}`, secret), JWTOptions{Audience: "app"}, ErrTokenInvalid, ""},
		{"aud missing", rawToken(hs, `{"sub":"alice"}`, secret), JWTOptions{Audience: "app"}, ErrTokenInvalid, ""},
		{"iss not a string", rawToken(hs, `{"sub":"alice","iss":1}`, secret), JWTOptions{Issuer: "me"}, ErrTokenInvalid, ""},
		{"malformed base64 header", "!!!." + good[strings.IndexByte(good, '.')+1:], JWTOptions{}, ErrTokenMalformed, ""},
		{"malformed base64 signature", good[:strings.LastIndexByte(good, '.')+1] + "***", JWTOptions{}, ErrTokenMalformed, ""},
		{"padded base64", rawToken(hs, `{"sub":"alice"}`, secret) + "=", JWTOptions{}, ErrTokenMalformed, ""},
		{"extra dots", good + ".", JWTOptions{}, ErrTokenMalformed, ""},
		{"two segments", good[:strings.LastIndexByte(good, '.')], JWTOptions{}, ErrTokenMalformed, ""},
		{"header not json", rawToken(`{"alg":"HS256"`, `{"sub":"alice"}`, secret), JWTOptions{}, ErrTokenMalformed, ""},
		{"payload null", rawToken(hs, `null`, secret), JWTOptions{}, ErrTokenMalformed, ""},
		{"payload array", rawToken(hs, `["sub","alice"]`, secret), JWTOptions{}, ErrTokenMalformed, ""},
		{"payload string", rawToken(hs, `"alice"`, secret), JWTOptions{}, ErrTokenMalformed, ""},
		{"payload trailing data", rawToken(hs, `{"sub":"alice"}x`, secret), JWTOptions{}, ErrTokenMalformed, ""},
		{"payload trailing comma", rawToken(hs, `{"sub":"alice",}`, secret), JWTOptions{}, ErrTokenMalformed, ""},
		{"payload bad number", rawToken(hs, `{"sub":"alice","exp":01}`, secret), JWTOptions{}, ErrTokenMalformed, ""},
		{"payload number out of range", rawToken(hs, `{"sub":"alice","exp":1e999}`, secret), JWTOptions{}, ErrTokenMalformed, ""},
		{"payload bad literal", rawToken(hs, `{"sub":"alice","x":tru}`, secret), JWTOptions{}, ErrTokenMalformed, ""},
		{"payload control char", rawToken(hs, "{\"sub\":\"al\x01ice\"}", secret), JWTOptions{}, ErrTokenMalformed, ""},
		{"empty", "", JWTOptions{}, ErrTokenMalformed, ""},
		{"dots only", "..", JWTOptions{}, ErrTokenMalformed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := VerifyJWTWith(tt.token, key, tt.opts)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("VerifyJWTWith: %v", err)
				}
				if got := claims.Subject(); got != tt.wantSub {
					t.Errorf("sub = %q, want %q", got, tt.wantSub)
				}
				return
			}
			if claims != nil {
				t.Errorf("claims %v returned with error", claims)
			}
			if kind := jwtKind(t, err); kind != tt.wantErr {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestVerifyJWTClaimsMatchEncodingJSON checks the fast decoder yields the
// same claims (types included) as golang-jwt's encoding/json decode.
func TestVerifyJWTClaimsMatchEncodingJSON(t *testing.T) {
	secret := []byte("k")
	key := HS256Key(secret)
	for _, payload := range []string{
		`{}`,
		`{"sub":"alice","exp":1900000060,"iat":1.5,"admin":true,"x":false,"n":null}`,
		`{"aud":["a","b"],"e":[],"m":[1,"two",true,null,-0.0,1E+2]}`,
		`{"big":123456789012345678901234567890,"neg":-1e-7,"s":"a b/c~"}`,
		`{"a":1,"a":"x"}`,
	} {
		tok := rawToken(`{"alg":"HS256","typ":"JWT"}`, payload, secret)
		got, err := VerifyJWT(tok, key)
		if err != nil {
			t.Fatalf("%s: %v", payload, err)
		}
		want, err := verifyJWTReference(tok, key, JWTOptions{})
		if err != nil {
			t.Fatalf("%s: reference: %v", payload, err)
		}
		if !reflect.DeepEqual(map[string]any(got), map[string]any(want)) {
			t.Errorf("%s: claims %#v, want %#v", payload, got, want)
		}
	}
}

// TestVerifyJWTNilPublicKey: a typed nil key is rejected, not dereferenced.
func TestVerifyJWTNilPublicKey(t *testing.T) {
	for _, key := range []JWTKey{RS256Key(nil), ES256Key(nil)} {
		if _, err := VerifyJWT("a.b.c", key); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("%s nil key: err = %v, want ErrTokenInvalid", key.Algorithm(), err)
		}
	}
}

// FuzzVerifyJWT compares VerifyJWTWith's accept/reject decision (and, on
// accept, the claims) with golang-jwt's on the same token, for HS256 and
// ES256 keys. The one allowed difference is stricter: golang-jwt accepts
// a "null" payload as empty claims, VerifyJWT rejects it as malformed.
func FuzzVerifyJWT(f *testing.F) {
	secret := []byte("fuzz-secret")
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	hsKey, esKey := HS256Key(secret), ES256Key(&ecKey.PublicKey)
	now := time.Unix(1_900_000_000, 0)
	hs := `{"alg":"HS256","typ":"JWT"}`
	for _, p := range []string{
		`{"sub":"alice","exp":1900000060}`, `{"sub":"a","nbf":1900000100}`, `{"exp":1899999999.5}`,
		`{"aud":["app"],"iss":"me","exp":0}`, `null`, `[]`, `{"a":{"b":[1]}}`, `{"s":"\u00e9"}`, `{"exp":"x"}`,
	} {
		f.Add(rawToken(hs, p, secret), false)
	}
	es, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"sub": "alice"}).SignedString(ecKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(es, true)
	f.Add(rawToken(`{"alg":"none"}`, `{}`, secret), false)
	f.Add("a.b.c", false)
	f.Add("..", false)
	f.Fuzz(func(t *testing.T, token string, ec bool) {
		key := hsKey
		if ec {
			key = esKey
		}
		for _, opts := range []JWTOptions{{Now: now}, {Now: now, Issuer: "me", Audience: "app", RequireExpiry: true, Leeway: time.Second}} {
			got, err := VerifyJWTWith(token, key, opts)
			want, refErr := verifyJWTReference(token, key, opts)
			if err != nil {
				jwtKind(t, err)
			}
			switch {
			case err == nil && refErr != nil:
				t.Fatalf("accepted %q rejected by golang-jwt: %v", token, refErr)
			case err != nil && refErr == nil:
				if len(want) == 0 && errors.Is(err, ErrTokenMalformed) {
					continue // "null" payload: golang-jwt accepts it as {}
				}
				t.Fatalf("rejected %q accepted by golang-jwt: %v", token, err)
			case err == nil && !reflect.DeepEqual(map[string]any(got), map[string]any(want)):
				t.Fatalf("%q: claims %#v, golang-jwt %#v", token, got, want)
			}
		}
	})
}

// BenchmarkVerifyJWTCompare runs the golang-jwt reference and VerifyJWT
// side by side on the example flow's token.
func BenchmarkVerifyJWTCompare(b *testing.B) {
	secret := []byte("edgelab-workshop-secret")
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "alice", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
	}).SignedString(secret)
	if err != nil {
		b.Fatal(err)
	}
	key := HS256Key(secret)
	for _, bc := range []struct {
		name   string
		verify func(string, JWTKey, JWTOptions) (Claims, error)
	}{{"before-golang-jwt", verifyJWTReference}, {"after-fast", VerifyJWTWith}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c, err := bc.verify(tok, key, JWTOptions{})
				if err != nil || c.Subject() != "alice" {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestHS256KeySharedConcurrently: one key verifies good and forged tokens
// from many goroutines at once (its pooled HMAC states never mix), and
// changing the caller's secret slice afterwards does not change the key.
func TestHS256KeySharedConcurrently(t *testing.T) {
	secret := []byte("shared-secret")
	key := HS256Key(secret)
	good, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice"}).SignedString([]byte("shared-secret"))
	if err != nil {
		t.Fatal(err)
	}
	forged, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "mallory"}).SignedString([]byte("guessed"))
	if err != nil {
		t.Fatal(err)
	}
	copy(secret, "XXXXXX") // the key keeps its own copy
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 200 {
				tok, wantOK := good, true
				if (g+i)%3 == 0 {
					tok, wantOK = forged, false
				}
				c, err := VerifyJWT(tok, key)
				if (err == nil) != wantOK || (wantOK && c.Subject() != "alice") {
					errs <- fmt.Errorf("goroutine %d call %d: claims %v err %v, want ok=%v", g, i, c, err, wantOK)
					return
				}
				if !wantOK && !errors.Is(err, ErrTokenSignature) {
					errs <- fmt.Errorf("forged token: err %v, want ErrTokenSignature", err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
