package signedurl

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

// newKey returns a fresh 2048-bit key; tests sign with it and verify with
// its public half.
func newKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemOf(t testing.TB, typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// splitURL returns the credentials of a signed URL and its resource URL
// (the URL without the signing parameters), as the edge rebuilds it.
func splitURL(t testing.TB, signed string) (Credentials, string) {
	t.Helper()
	base, q, _ := strings.Cut(signed, "?")
	c, rest := FromQuery(q)
	if rest != "" {
		base += "?" + rest
	}
	return c, base
}

func code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return "ok"
	}
	return "not an *Error: " + err.Error()
}

func TestCannedPolicyIsCloudFrontsStatement(t *testing.T) {
	got := string(Canned("http://d111111abcdef8.cloudfront.net/horizon.jpg?size=large&license=yes", time.Unix(1357034400, 0)))
	want := `{"Statement":[{"Resource":"http://d111111abcdef8.cloudfront.net/horizon.jpg?size=large&license=yes","Condition":{"DateLessThan":{"AWS:EpochTime":1357034400}}}]}`
	if got != want {
		t.Errorf("canned policy\n got %s\nwant %s", got, want)
	}
}

func TestEncodeIsURLSafe(t *testing.T) {
	b := []byte{0xfb, 0xff, 0xfe, 0x3e} // standard base64 "+//+Pg=="
	enc := Encode(b)
	if enc != "-~~-Pg__" {
		t.Errorf("Encode = %q, want -~~-Pg__", enc)
	}
	for _, s := range []string{enc, "+//+Pg=="} {
		if dec, err := Decode(s, 16); err != nil || string(dec) != string(b) {
			t.Errorf("Decode(%q) = %x, %v", s, dec, err)
		}
	}
	for _, bad := range []string{"!!!!", "abc", "a===", strings.Repeat("A", 40)} {
		if _, err := Decode(bad, 16); err == nil {
			t.Errorf("Decode(%q) accepted", bad)
		}
	}
}

func TestSignAndVerify(t *testing.T) {
	key := newKey(t)
	other := newKey(t)
	v := NewVerifier(map[string]*rsa.PublicKey{"K1": &key.PublicKey, "K2": &other.PublicKey})
	s := Signer{KeyPairID: "K1", Key: key}
	now := time.Unix(1_800_000_000, 0)
	client := netip.MustParseAddr("192.0.2.7")
	base := "http://d.test:8080/training/a.pdf?lang=en&x=1"
	canned := func(exp time.Time) string {
		u, err := s.CannedURL(base, exp)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	custom := func(p Policy, signer Signer) string {
		u, err := signer.CustomURL(base, &p)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	hour := time.Hour
	sha := Signer{KeyPairID: "K1", Key: key, Hash: SHA256}
	for _, tc := range []struct {
		name   string
		signed string
		ip     netip.Addr
		want   string
	}{
		{"canned", canned(now.Add(hour)), client, "ok"},
		{"canned, expired", canned(now.Add(-hour)), client, CodeAccessDenied},
		{"canned, expires now", canned(now), client, CodeAccessDenied},
		{"custom with wildcard, range and start", custom(Policy{Resource: "http://d.test:8080/training/*", Expires: now.Add(hour),
			Starts: now.Add(-hour), SourceIP: netip.MustParsePrefix("192.0.2.0/24")}, s), client, "ok"},
		{"custom without resource", custom(Policy{Expires: now.Add(hour)}, s), client, "ok"},
		{"custom, sha256", custom(Policy{Expires: now.Add(hour)}, sha), client, "ok"},
		{"custom, wrong address", custom(Policy{Expires: now.Add(hour), SourceIP: netip.MustParsePrefix("198.51.100.0/24")}, s), client, CodeAccessDenied},
		{"custom, not yet valid", custom(Policy{Expires: now.Add(2 * hour), Starts: now.Add(hour)}, s), client, CodeAccessDenied},
		{"custom, other resource", custom(Policy{Resource: "http://d.test:8080/public/*", Expires: now.Add(hour)}, s), client, CodeAccessDenied},
		{"custom, ? is one character", custom(Policy{Resource: "http://d.test:8080/training/?.pdf*", Expires: now.Add(hour)}, s), client, "ok"},
		{"custom, ? is not two", custom(Policy{Resource: "http://d.test:8080/training/?.pd?", Expires: now.Add(hour)}, s), client, CodeAccessDenied},
		{"custom, IPv6 viewer against an IPv4 range", custom(Policy{Expires: now.Add(hour), SourceIP: netip.MustParsePrefix("192.0.2.0/24")}, s),
			netip.MustParseAddr("2001:db8::1"), CodeAccessDenied},
	} {
		c, res := splitURL(t, tc.signed)
		if res != base {
			t.Errorf("%s: resource %q, want %q", tc.name, res, base)
		}
		if got := code(v.Verify(c, res, tc.ip, now)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestVerifyRefusals(t *testing.T) {
	key, stranger := newKey(t), newKey(t)
	v := NewVerifier(map[string]*rsa.PublicKey{"K1": &key.PublicKey})
	now := time.Unix(1_800_000_000, 0)
	res := "https://d.test/a.jpg"
	good, err := Signer{KeyPairID: "K1", Key: key}.CannedURL(res, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := splitURL(t, good)
	forged, _ := Signer{KeyPairID: "K1", Key: stranger}.CannedURL(res, now.Add(time.Hour))
	fc, _ := splitURL(t, forged)
	p := Policy{Resource: res, Expires: now.Add(time.Hour)}
	sig, _ := Signer{KeyPairID: "K1", Key: key}.Sign(p.JSON())
	other := Policy{Resource: "https://d.test/*", Expires: now.Add(time.Hour)}
	with := func(f func(*Credentials)) Credentials { x := c; f(&x); return x }
	for _, tc := range []struct {
		name string
		c    Credentials
		url  string
		want string
	}{
		{"nothing", Credentials{}, res, CodeMissingKey},
		{"no key pair id", with(func(x *Credentials) { x.KeyPairID = "" }), res, CodeMissingKey},
		{"unknown key pair id", with(func(x *Credentials) { x.KeyPairID = "K9" }), res, CodeInvalidKey},
		{"garbage signature", with(func(x *Credentials) { x.Signature = "%%%not-base64" }), res, CodeMalformedSignature},
		{"no signature", with(func(x *Credentials) { x.Signature = "" }), res, CodeMalformedSignature},
		{"huge signature", with(func(x *Credentials) { x.Signature = strings.Repeat("A", 100_000) }), res, CodeMalformedSignature},
		{"signed by another key", fc, res, CodeAccessDenied},
		{"signature of another URL", c, "https://d.test/b.jpg", CodeAccessDenied},
		{"Expires changed", with(func(x *Credentials) { x.Expires = "1900000000" }), res, CodeAccessDenied},
		{"Expires not a number", with(func(x *Credentials) { x.Expires = "soon" }), res, CodeMalformedPolicy},
		{"no Expires nor Policy", with(func(x *Credentials) { x.Expires = "" }), res, CodeMalformedPolicy},
		{"garbage policy", with(func(x *Credentials) { x.Policy = "!!!" }), res, CodeMalformedPolicy},
		{"policy not JSON", with(func(x *Credentials) { x.Policy = Encode([]byte("hello")) }), res, CodeMalformedPolicy},
		{"huge policy", with(func(x *Credentials) { x.Policy = Encode(make([]byte, MaxPolicyBytes+1)) }), res, CodeMalformedPolicy},
		{"custom policy swapped for a wider one", Credentials{Policy: Encode(other.JSON()), Signature: sig, KeyPairID: "K1"}, res, CodeAccessDenied},
		{"the signed custom policy", Credentials{Policy: Encode(p.JSON()), Signature: sig, KeyPairID: "K1"}, res, "ok"},
		{"unknown hash algorithm", with(func(x *Credentials) { x.HashAlgorithm = "MD5" }), res, CodeAccessDenied},
		{"SHA1 signature claimed SHA256", with(func(x *Credentials) { x.HashAlgorithm = "SHA256" }), res, CodeAccessDenied},
	} {
		if got := code(v.Verify(tc.c, tc.url, netip.Addr{}, now)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestParsePolicyIsStrict(t *testing.T) {
	ok := `{"Statement":[{"Resource":"http://d.test/*","Condition":{"IpAddress":{"AWS:SourceIp":"192.0.2.10/32"},"DateGreaterThan":{"AWS:EpochTime":1357034400},"DateLessThan":{"AWS:EpochTime":1357120800}}}]}`
	p, err := ParsePolicy([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if p.Resource != "http://d.test/*" || p.Expires.Unix() != 1357120800 || p.Starts.Unix() != 1357034400 || p.SourceIP.String() != "192.0.2.10/32" {
		t.Errorf("parsed %+v", p)
	}
	if again, err := ParsePolicy(p.JSON()); err != nil || *again != *p {
		t.Errorf("JSON does not read back: %+v, %v", again, err)
	}
	spaced := "{ \"Statement\" : [ {\n \"Condition\": {\"DateLessThan\": {\"AWS:EpochTime\": 1357120800}} } ] }\n"
	if _, err := ParsePolicy([]byte(spaced)); err != nil {
		t.Errorf("white space: %v", err)
	}
	stmt := `{"Resource":"http://d.test/a","Condition":{"DateLessThan":{"AWS:EpochTime":1357120800}}}`
	for name, bad := range map[string]string{
		"two statements":         `{"Statement":[` + stmt + `,` + stmt + `]}`,
		"no statement":           `{"Statement":[]}`,
		"extra top-level field":  `{"Statement":[` + stmt + `],"Version":"2012-10-17"}`,
		"lower-case field":       `{"statement":[` + stmt + `]}`,
		"duplicate field":        `{"Statement":[` + stmt + `],"Statement":[` + stmt + `]}`,
		"duplicate condition":    `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1},"DateLessThan":{"AWS:EpochTime":9999999999}}}]}`,
		"no DateLessThan":        `{"Statement":[{"Resource":"http://d.test/a","Condition":{"DateGreaterThan":{"AWS:EpochTime":1}}}]}`,
		"no Condition":           `{"Statement":[{"Resource":"http://d.test/a"}]}`,
		"quoted epoch":           `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":"1357120800"}}}]}`,
		"fractional epoch":       `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1357120800.5}}}]}`,
		"negative epoch":         `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":-1}}}]}`,
		"empty epoch object":     `{"Statement":[{"Condition":{"DateLessThan":{}}}]}`,
		"address without prefix": `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1},"IpAddress":{"AWS:SourceIp":"192.0.2.1"}}}]}`,
		"address not a string":   `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1},"IpAddress":{"AWS:SourceIp":3232235777}}}]}`,
		"empty resource":         `{"Statement":[{"Resource":"","Condition":{"DateLessThan":{"AWS:EpochTime":1}}}]}`,
		"unknown condition":      `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1},"StringLike":{"aws:Referer":"x"}}}]}`,
		"trailing data":          `{"Statement":[` + stmt + `]}{}`,
		"not an object":          `[]`,
		"truncated":              `{"Statement":[` + stmt,
		"huge":                   `{"Statement":[{"Resource":"` + strings.Repeat("a", MaxPolicyBytes) + `","Condition":{"DateLessThan":{"AWS:EpochTime":1}}}]}`,
	} {
		if p, err := ParsePolicy([]byte(bad)); err == nil {
			t.Errorf("%s: accepted as %+v", name, p)
		}
	}
}

func TestFromQueryKeepsTheRestInOrder(t *testing.T) {
	c, rest := FromQuery("color=red&Expires=17&size=m&Signature=a~b-c_&Key-Pair-Id=K%31&Hash-Algorithm=SHA256&expires=x")
	if rest != "color=red&size=m&expires=x" {
		t.Errorf("rest %q", rest)
	}
	if c.Expires != "17" || c.Signature != "a~b-c_" || c.KeyPairID != "K1" || c.HashAlgorithm != "SHA256" || c.Policy != "" {
		t.Errorf("credentials %+v", c)
	}
	cc := FromCookies([]string{`session=1; CloudFront-Policy=P1; CloudFront-Signature="S1"`, "CloudFront-Key-Pair-Id=K1; CloudFront-Policy=P2"})
	if cc.Policy != "P1" || cc.Signature != "S1" || cc.KeyPairID != "K1" || !cc.Present() {
		t.Errorf("cookies %+v", cc)
	}
	if FromCookies([]string{"a=b"}).Present() {
		t.Error("no signing cookies, yet Present")
	}
}

func TestCookiesVerify(t *testing.T) {
	key := newKey(t)
	s := Signer{KeyPairID: "K1", Key: key, Hash: SHA256}
	v := NewVerifier(map[string]*rsa.PublicKey{"K1": &key.PublicKey})
	now := time.Unix(1_800_000_000, 0)
	cs, err := s.CustomCookies(&Policy{Resource: "http://d.test/media/*", Expires: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	var hdr []string
	for _, c := range cs {
		hdr = append(hdr, c.String())
	}
	c := FromCookies([]string{strings.Join(hdr, "; ")})
	if err := v.Verify(c, "http://d.test/media/a.mp4", netip.Addr{}, now); err != nil {
		t.Errorf("custom cookies: %v", err)
	}
	if got := code(v.Verify(c, "http://d.test/other/a.mp4", netip.Addr{}, now)); got != CodeAccessDenied {
		t.Errorf("custom cookies, other resource: %s", got)
	}
	cs, err = s.CannedCookies("http://d.test/a.mp4", now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if cs[0].Name != "CloudFront-Expires" || cs[3].Name != "CloudFront-Hash-Algorithm" {
		t.Errorf("canned cookies %v", cs)
	}
	hdr = hdr[:0]
	for _, c := range cs {
		hdr = append(hdr, c.String())
	}
	if err := v.Verify(FromCookies(hdr), "http://d.test/a.mp4", netip.Addr{}, now); err != nil {
		t.Errorf("canned cookies: %v", err)
	}
}

func TestKeys(t *testing.T) {
	key := newKey(t)
	pkix, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	for _, s := range []string{pemOf(t, "PUBLIC KEY", pkix), pemOf(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&key.PublicKey))} {
		if k, err := ParsePublicKey(s); err != nil || !k.Equal(&key.PublicKey) {
			t.Errorf("ParsePublicKey: %v", err)
		}
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(key)
	for _, s := range []string{pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)), pemOf(t, "PRIVATE KEY", p8)} {
		if k, err := ParsePrivateKey(s); err != nil || !k.Equal(key) {
			t.Errorf("ParsePrivateKey: %v", err)
		}
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallDER, _ := x509.MarshalPKIXPublicKey(&small.PublicKey)
	for name, bad := range map[string]string{
		"not PEM":      "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA",
		"ECDSA":        pemOf(t, "PUBLIC KEY", ecDER),
		"1024 bits":    pemOf(t, "PUBLIC KEY", smallDER),
		"garbage DER":  pemOf(t, "PUBLIC KEY", []byte("garbage")),
		"certificate":  pemOf(t, "CERTIFICATE", pkix),
		"two blocks":   pemOf(t, "PUBLIC KEY", pkix) + pemOf(t, "PUBLIC KEY", pkix),
		"private half": pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)),
	} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSignerRefusesReservedParameters(t *testing.T) {
	s := Signer{KeyPairID: "K1", Key: newKey(t)}
	for _, u := range []string{"http://d.test/a?Expires=1", "http://d.test/a#frag", "d.test/a", "ftp://d.test/a"} {
		if _, err := s.CannedURL(u, time.Now()); err == nil {
			t.Errorf("%s: signed", u)
		}
	}
	signed, err := s.CannedURL("http://d.test/a?b=c&d=e", time.Unix(2_000_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(signed)
	if err != nil || u.Query().Get("b") != "c" || u.Query().Get("Expires") != "2000000000" || u.Query().Get("Key-Pair-Id") != "K1" {
		t.Errorf("signed URL %q", signed)
	}
}
