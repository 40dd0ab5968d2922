package edgenode

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgelab/edgelab/accesslog"
	"github.com/edgelab/edgelab/cmd/edgectl/ctl"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/signedurl"
	"github.com/edgelab/edgelab/topology"
)

// signedFile is a distribution with a key group trusted by "/private/*"
// (whose viewer-request function is "vr") and a public default behavior.
func signedFile(t *testing.T, pub *rsa.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := strings.ReplaceAll(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), "\n", "\n          ")
	return fmt.Sprintf(`
keyGroups:
  - id: premium
    name: premium-viewers
    publicKeys:
      - id: K2JCJMDEHXQW5F
        encodedKey: |
          %s
behaviors:
  - {path: "/private/*", origin: web, trustedKeyGroups: [premium], functions: {viewer-request: {function: vr, version: 1}}}
  - {path: default, origin: web}
`, strings.TrimSpace(pemKey))
}

func TestSignedURLsAndCookies(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	o := newPolicyOrigin(t)
	fr := newFakeRunner()
	var mu sync.Mutex
	var seenQuery []string
	fr.handlers["vr"] = func(inv sandbox.Invocation) sandbox.Result {
		mu.Lock()
		seenQuery = append(seenQuery, inv.Request.QueryString)
		mu.Unlock()
		return cont(inv)
	}
	n := startNode(t, fr, nil)
	applyFile(t, n, o.URL, signedFile(t, &key.PublicKey))
	base := n.URL()
	good := signedurl.Signer{KeyPairID: "K2JCJMDEHXQW5F", Key: key}
	forger := signedurl.Signer{KeyPairID: "K2JCJMDEHXQW5F", Key: stranger}
	unknown := signedurl.Signer{KeyPairID: "KUNKNOWN", Key: key}
	soon, past := time.Now().Add(time.Hour), time.Now().Add(-time.Minute)
	loopback, elsewhere := netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("203.0.113.0/24")
	canned := func(s signedurl.Signer, path string, exp time.Time) string {
		u, err := s.CannedURL(base+path, exp)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(u, base)
	}
	custom := func(s signedurl.Signer, path string, p signedurl.Policy) string {
		u, err := s.CustomURL(base+path, &p)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(u, base)
	}
	cookies := func(s signedurl.Signer, p signedurl.Policy) map[string]string {
		cs, err := s.CustomCookies(&p)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, c := range cs {
			parts = append(parts, c.String())
		}
		return map[string]string{"Cookie": "session=abc; " + strings.Join(parts, "; ")}
	}
	tampered := strings.Replace(canned(good, "/private/a?lang=en", soon), "/private/a", "/private/b", 1)
	for _, tc := range []struct {
		name, path string
		hdr        map[string]string
		status     int
		code       string // CloudFront's error code for a 403
		query      string // what the origin saw, for a 200
	}{
		{"public behavior", "/pub", nil, 200, "", ""},
		{"nothing signed", "/private/a", nil, 403, "MissingKey", ""},
		{"canned", canned(good, "/private/c1?lang=en", soon), nil, 200, "", "lang=en"},
		{"canned, expired", canned(good, "/private/c2", past), nil, 403, "AccessDenied", ""},
		{"canned, for another path", tampered, nil, 403, "AccessDenied", ""},
		{"canned, signed by another key", canned(forger, "/private/c3", soon), nil, 403, "AccessDenied", ""},
		{"canned, unknown key pair id", canned(unknown, "/private/c4", soon), nil, 403, "InvalidKey", ""},
		{"garbage signature", "/private/c5?Expires=2000000000&Signature=%25%25%25&Key-Pair-Id=K2JCJMDEHXQW5F", nil, 403, "MalformedSignature", ""},
		{"custom, wildcard and loopback range", custom(good, "/private/d1?x=1", signedurl.Policy{Resource: base + "/private/*", Expires: soon, SourceIP: loopback}),
			nil, 200, "", "x=1"},
		{"custom, wrong address range", custom(good, "/private/d2", signedurl.Policy{Resource: base + "/private/*", Expires: soon, SourceIP: elsewhere}),
			nil, 403, "AccessDenied", ""},
		{"custom, not yet valid", custom(good, "/private/d3", signedurl.Policy{Expires: soon.Add(time.Hour), Starts: soon}), nil, 403, "AccessDenied", ""},
		{"custom, resource of another behavior", custom(good, "/private/d4", signedurl.Policy{Resource: base + "/public/*", Expires: soon}),
			nil, 403, "AccessDenied", ""},
		{"custom, policy not base64", "/private/d5?Policy=!!&Signature=AAAA&Key-Pair-Id=K2JCJMDEHXQW5F", nil, 403, "MalformedPolicy", ""},
		{"signed cookies", "/private/e1?y=2", cookies(good, signedurl.Policy{Resource: base + "/private/*", Expires: soon}), 200, "", "y=2"},
		{"signed cookies, expired", "/private/e2", cookies(good, signedurl.Policy{Resource: base + "/private/*", Expires: past}), 403, "AccessDenied", ""},
		{"signed cookies, forged", "/private/e3", cookies(forger, signedurl.Policy{Expires: soon}), 403, "AccessDenied", ""},
		{"a signed URL wins over good cookies", canned(good, "/private/e4", past),
			cookies(good, signedurl.Policy{Resource: base + "/private/*", Expires: soon}), 403, "AccessDenied", ""},
	} {
		r := do(t, n, "GET", tc.path, tc.hdr, "")
		if r.status != tc.status {
			t.Errorf("%s: %d %q, want %d", tc.name, r.status, r.body, tc.status)
			continue
		}
		if tc.status == 403 {
			want := "<Code>" + tc.code + "</Code>"
			if !strings.Contains(r.body, want) || xcache(r) != "Error" || r.header.Get("Content-Type") != "text/xml" {
				t.Errorf("%s: %q %q %q, want CloudFront's %s error", tc.name, xcache(r), r.header.Get("Content-Type"), r.body, tc.code)
			}
			continue
		}
		if _, q := o.last(); q != tc.query {
			t.Errorf("%s: origin saw query %q, want %q (signing parameters removed)", tc.name, q, tc.query)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seenQuery) != 3 {
		t.Errorf("viewer-request ran %d times (%q), want 3: only for the accepted requests", len(seenQuery), seenQuery)
	}
	for _, q := range seenQuery {
		if strings.Contains(q, "Signature") || strings.Contains(q, "Key-Pair-Id") {
			t.Errorf("viewer-request saw the signing parameters: %q", q)
		}
	}
}

// TestEdgectlSignedURLsServedByNode signs with edgectl sign-url and
// sign-cookies, as a user would, and asks a node.
func TestEdgectlSignedURLsServedByNode(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "private.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	o := newPolicyOrigin(t)
	fr := newFakeRunner()
	fr.handlers["vr"] = cont
	n := startNode(t, fr, nil)
	applyFile(t, n, o.URL, signedFile(t, &key.PublicKey))
	base := n.URL()
	edgectl := func(args ...string) string {
		var out, errb strings.Builder
		args = append(args, "--key-pair-id", "K2JCJMDEHXQW5F", "--private-key", keyFile)
		if code := ctl.Execute(context.Background(), args, &out, &errb); code != 0 {
			t.Fatalf("edgectl %v: exit %d: %s", args, code, errb.String())
		}
		return strings.TrimSpace(out.String())
	}
	for _, tc := range []struct {
		args   []string
		status int
	}{
		{[]string{"sign-url", base + "/private/u1?lang=en", "--expires", "1h"}, 200},
		{[]string{"sign-url", base + "/private/u2", "--expires", "-1m"}, 403},
		{[]string{"sign-url", base + "/private/u3", "--date-less-than", "2h", "--ip-address", "127.0.0.1/32", "--hash-algorithm", "sha256"}, 200},
		{[]string{"sign-url", base + "/private/u4", "--expires", "1h", "--ip-address", "203.0.113.0/24"}, 403},
		{[]string{"sign-url", base + "/private/u5", "--expires", "1h", "--date-greater-than", "30m"}, 403},
	} {
		signed := edgectl(tc.args...)
		if !strings.HasPrefix(signed, base+"/private/") || !strings.Contains(signed, "Signature=") {
			t.Fatalf("edgectl %v printed %q", tc.args, signed)
		}
		if r := do(t, n, "GET", strings.TrimPrefix(signed, base), nil, ""); r.status != tc.status {
			t.Errorf("edgectl %v: %s: %d %s, want %d", tc.args, signed, r.status, r.body, tc.status)
		}
	}
	lines := edgectl("sign-cookies", base+"/private/*", "--expires", "1h", "--secure=false")
	var pairs []string
	for _, line := range strings.Split(lines, "\n") {
		c, err := http.ParseSetCookie(strings.TrimPrefix(line, "Set-Cookie: "))
		if err != nil || !c.HttpOnly || c.Secure || c.Path != "/" {
			t.Fatalf("sign-cookies line %q: %+v, %v", line, c, err)
		}
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	if len(pairs) != 3 || !strings.HasPrefix(pairs[0], "CloudFront-Policy=") {
		t.Fatalf("sign-cookies printed %q", lines)
	}
	for _, path := range []string{"/private/c1", "/private/deeper/c2"} {
		if r := do(t, n, "GET", path, map[string]string{"Cookie": strings.Join(pairs, "; ")}, ""); r.status != 200 {
			t.Errorf("%s with edgectl's cookies: %d %s", path, r.status, r.body)
		}
	}
}

// TestSignedRefusalGetsTheCustomErrorPage: a custom error response for 403
// replaces CloudFront's XML refusal (the page comes through the public
// behavior), and the access log keeps the signed URL as sent.
func TestSignedRefusalGetsTheCustomErrorPage(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	o := newPolicyOrigin(t)
	fr := newFakeRunner()
	fr.handlers["vr"] = cont
	var log syncBuffer
	n := startNode(t, fr, func(c *Config) { c.AccessLog = accesslog.NewWriter(&log, false) })
	applyFile(t, n, o.URL, signedFile(t, &key.PublicKey)+"customErrorResponses: [{errorCode: 403, responsePagePath: /errors/403.html}]\n")
	if r := do(t, n, "GET", "/private/x", nil, ""); r.status != 403 || r.body != "custom page /errors/403.html" {
		t.Errorf("refused: %d %q, want 403 with the custom page", r.status, r.body)
	}
	signed, err := signedurl.Signer{KeyPairID: "K2JCJMDEHXQW5F", Key: key}.CannedURL(n.URL()+"/private/y?a=1", time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if r := do(t, n, "GET", strings.TrimPrefix(signed, n.URL()), nil, ""); r.status != 200 {
		t.Fatalf("signed: %d %s", r.status, r.body)
	}
	if _, q := o.last(); q != "a=1" {
		t.Errorf("origin saw %q", q)
	}
	lines := log.lines()
	if len(lines) != 2 {
		t.Fatalf("%d access log lines, want 2", len(lines))
	}
	if got := strings.Split(lines[1], "\t")[11]; !strings.HasPrefix(got, "a=1&Expires=") || !strings.Contains(got, "&Signature=") {
		t.Errorf("access log query %q, want the signed URL's", got)
	}
}

// TestSignedURLThroughARegionalEdgeCache: the PoP checks the signature and
// removes it; the REC serves the PoP's tier request without checking again
// (it would refuse the unsigned query), and the origin sees neither.
func TestSignedURLThroughARegionalEdgeCache(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	top, err := topology.Parse([]byte(tierTopology))
	if err != nil {
		t.Fatal(err)
	}
	o := newPolicyOrigin(t)
	fr := newFakeRunner()
	fr.handlers["vr"] = cont
	rec := startNode(t, fr, func(c *Config) { c.Region, c.PoP, c.Tier = "a", "ra", TierConfig{Role: RoleREC, Topology: top} })
	pop := startNode(t, fr, func(c *Config) {
		c.Region, c.PoP, c.Tier = "a", "A1", TierConfig{Topology: top, RECs: map[string]string{"ra": rec.URL()}}
	})
	file := signedFile(t, &key.PublicKey)
	applyFile(t, rec, o.URL, file)
	applyFile(t, pop, o.URL, file)
	signed, err := signedurl.Signer{KeyPairID: "K2JCJMDEHXQW5F", Key: key}.CannedURL(pop.URL()+"/private/t?k=v", time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, pop, "GET", strings.TrimPrefix(signed, pop.URL()), nil, "")
	if r.status != 200 || r.header.Get("X-Edgelab-Rec") != "ra" {
		t.Fatalf("signed through the REC: %d %q (REC %q)", r.status, r.body, r.header.Get("X-Edgelab-Rec"))
	}
	if _, q := o.last(); q != "k=v" {
		t.Errorf("origin saw %q, want k=v", q)
	}
	if r := do(t, pop, "GET", "/private/t?k=v", nil, ""); r.status != 403 {
		t.Errorf("unsigned at the PoP, though the object is cached: %d, want 403", r.status)
	}
}
