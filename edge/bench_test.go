package edge_test

import (
	"net/http"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/edgelab/edgelab/edge"
)

// BenchmarkVerifyJWTHS256 is the example flow's per-request cost, compiled.
func BenchmarkVerifyJWTHS256(b *testing.B) {
	secret := []byte("edgelab-workshop-secret")
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice"}).SignedString(secret)
	if err != nil {
		b.Fatal(err)
	}
	key := edge.HS256Key(secret)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := edge.VerifyJWT(tok, key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalizeQuery(b *testing.B) {
	for b.Loop() {
		edge.NormalizeQuery("Size=LARGE&color=Red&b=2&a=1&utm_source=x")
	}
}

func BenchmarkCookie(b *testing.B) {
	h := http.Header{"Cookie": {"a=1; b=2; theme=dark; session=abcdef0123456789; group=b"}}
	for b.Loop() {
		edge.Cookie(h, "session")
	}
}
