package sandbox

// Benchmark-only file owned by the bench suite (bench/, `make bench`): the
// per-call cost of an HS256 JWT check written with interpreted crypto versus
// the SDK's compiled helper (edge.VerifyJWT). Names are prefixed hs256Bench
// so they cannot collide with the package's own test helpers.

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/edgelab/edgelab/edge"
)

const hs256BenchSecret = "edgelab-workshop-secret"

// hs256BenchInterpreted verifies the token with crypto/hmac, crypto/sha256,
// encoding/base64 and encoding/json, all run by the interpreter's glue.
const hs256BenchInterpreted = `package fn

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/edgelab/edgelab/edge"
)

var secret = []byte("` + hs256BenchSecret + `")

func verify(tok string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", errors.New("malformed token")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", err
	}
	var h map[string]interface{}
	if err := json.Unmarshal(hb, &h); err != nil {
		return "", err
	}
	if alg, _ := h["alg"].(string); alg != "HS256" {
		return "", errors.New("unexpected alg")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, m.Sum(nil)) {
		return "", errors.New("bad signature")
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var c map[string]interface{}
	if err := json.Unmarshal(pb, &c); err != nil {
		return "", err
	}
	if exp, ok := c["exp"].(float64); ok && time.Now().Unix() >= int64(exp) {
		return "", errors.New("expired")
	}
	sub, _ := c["sub"].(string)
	return sub, nil
}

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	sub, err := verify(strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer "))
	if err != nil {
		return edge.NewResponse(403, "Forbidden"), nil
	}
	req.Header.Set("X-User", sub)
	return nil, nil
}
`

// hs256BenchCompiled is examples/jwt-auth's check: the crypto runs compiled.
const hs256BenchCompiled = `package fn

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

var key = edge.HS256Key([]byte("` + hs256BenchSecret + `"))

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	claims, err := edge.VerifyJWT(edge.BearerToken(req.Header), key)
	if err != nil {
		return edge.NewResponse(403, "Forbidden"), nil
	}
	req.Header.Set("X-User", claims.Subject())
	return nil, nil
}
`

// hs256BenchBaseline does no crypto: the invocation cost both others pay.
const hs256BenchBaseline = `package fn

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	req.Header.Set("X-User", "bench")
	return nil, nil
}
`

func hs256BenchToken(tb testing.TB) string {
	tb.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "bench", "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(hs256BenchSecret))
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func hs256BenchInvocation(name, tok string) Invocation {
	return Invocation{Function: name, Version: 1, Event: edge.ViewerRequest,
		Request: &edge.Request{Method: "GET", URI: "/objects/1k", Header: http.Header{
			"Authorization": {"Bearer " + tok}, "Host": {"bench.edgelab.test"}}},
		Info: edge.Info{RequestID: "bench", Region: "local", PoP: "local"}}
}

// hs256BenchLoad loads src as function name into an in-process runner
// (no IPC: the difference between the cases is the handler's own work).
func hs256BenchLoad(tb testing.TB, name, src string) *InProcess {
	tb.Helper()
	r := NewInProcess(InProcessConfig{Interpreters: 1})
	c := Code{Name: name, Version: 1, Files: map[string][]byte{"fn.go": []byte(src)}, SHA256: edge.SHA256Hex([]byte(src))}
	if err := r.Load(context.Background(), c); err != nil {
		tb.Fatal(err)
	}
	return r
}

// TestHS256BenchFunctions checks the benchmarked handlers accept a valid
// token, set X-User, and reject a tampered one (so the benchmark measures a
// real check, not an early error path).
func TestHS256BenchFunctions(t *testing.T) {
	tok := hs256BenchToken(t)
	tampered := tok[:len(tok)-2] + "AA"
	if tampered == tok {
		tampered = tok[:len(tok)-2] + "BB"
	}
	for _, tc := range []struct{ name, src string }{
		{"interpreted", hs256BenchInterpreted},
		{"compiled", hs256BenchCompiled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := hs256BenchLoad(t, tc.name, tc.src)
			for _, in := range []struct {
				tok     string
				outcome Outcome
			}{{tok, OutcomeContinue}, {tampered, OutcomeGenerated}, {"", OutcomeGenerated}, {"a.b", OutcomeGenerated}} {
				res, err := r.Invoke(context.Background(), hs256BenchInvocation(tc.name, in.tok))
				if err != nil {
					t.Fatal(err)
				}
				if res.Outcome != in.outcome {
					t.Fatalf("token %.20q: outcome %s (%v), want %s", in.tok, res.Outcome, res.Err, in.outcome)
				}
				if in.outcome == OutcomeContinue && res.Request.Header.Get("X-User") != "bench" {
					t.Fatalf("X-User = %q", res.Request.Header.Get("X-User"))
				}
				if in.outcome == OutcomeGenerated && res.Response.Status != 403 {
					t.Fatalf("status %d", res.Response.Status)
				}
			}
		})
	}
}

// BenchmarkHS256 reports ns/op of one viewer-request invocation in-process
// for a handler without crypto (baseline), with interpreted HS256, and with
// the compiled helper; verify-ns/op subtracts the baseline. "native" is
// edge.VerifyJWT called directly from Go.
func BenchmarkHS256(b *testing.B) {
	tok := hs256BenchToken(b)
	var baseline float64
	invoke := func(src string, setBaseline bool) func(b *testing.B) {
		return func(b *testing.B) {
			r := hs256BenchLoad(b, "hs", src)
			inv := hs256BenchInvocation("hs", tok)
			ctx := context.Background()
			if _, err := r.Invoke(ctx, inv); err != nil { // warm
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				res, err := r.Invoke(ctx, inv)
				if err != nil || res.Outcome != OutcomeContinue {
					b.Fatalf("%v %+v", err, res)
				}
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if setBaseline {
				baseline = ns
			} else if baseline > 0 {
				b.ReportMetric(ns-baseline, "verify-ns/op")
			}
		}
	}
	b.Run("baseline", invoke(hs256BenchBaseline, true))
	b.Run("interpreted", invoke(hs256BenchInterpreted, false))
	b.Run("compiled-helper", invoke(hs256BenchCompiled, false))
	b.Run("native", func(b *testing.B) {
		key := edge.HS256Key([]byte(hs256BenchSecret))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := edge.VerifyJWT(tok, key); err != nil {
				b.Fatal(err)
			}
		}
	})
}
