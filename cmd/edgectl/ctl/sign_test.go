package ctl

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/signedurl"
)

func TestSignURLWithPolicyFileAndUsageErrors(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "k.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	policyFile := filepath.Join(dir, "policy.json")
	policy := "{\n  \"Statement\": [{\"Resource\": \"http://d.test/media/*\",\n    \"Condition\": {\"DateLessThan\": {\"AWS:EpochTime\": 4102444800}}}]\n}\n"
	if err := os.WriteFile(policyFile, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Execute(context.Background(), args, &out, &errb)
		return code, strings.TrimSpace(out.String()), errb.String()
	}
	code, signed, stderr := run("sign-url", "http://d.test/media/a.mp4", "--key-pair-id", "K1", "--private-key", keyFile, "--policy", policyFile)
	if code != 0 {
		t.Fatalf("sign-url --policy: exit %d: %s", code, stderr)
	}
	base, q, _ := strings.Cut(signed, "?")
	creds, rest := signedurl.FromQuery(q)
	v := signedurl.NewVerifier(map[string]*rsa.PublicKey{"K1": &key.PublicKey})
	if rest != "" || creds.Policy == "" {
		t.Fatalf("signed URL %q", signed)
	}
	if err := v.Verify(creds, base, netip.Addr{}, time.Now()); err != nil {
		t.Errorf("the policy file's URL does not verify: %v", err)
	}
	js, _ := signedurl.Decode(creds.Policy, signedurl.MaxPolicyBytes)
	if strings.ContainsAny(string(js), " \n") {
		t.Errorf("the signed policy keeps white space: %s", js)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sign-url", "http://d.test/a", "--private-key", keyFile, "--expires", "1h"}, "--key-pair-id and --private-key are required"},
		{[]string{"sign-url", "http://d.test/a", "--key-pair-id", "K1", "--private-key", keyFile}, "give one of --expires"},
		{[]string{"sign-url", "http://d.test/a", "--key-pair-id", "K1", "--private-key", keyFile, "--policy", policyFile, "--expires", "1h"}, "--policy replaces"},
		{[]string{"sign-url", "http://d.test/a", "--key-pair-id", "K1", "--private-key", keyFile, "--expires", "tomorrow"}, "is not a duration"},
		{[]string{"sign-url", "http://d.test/a", "--key-pair-id", "K1", "--private-key", keyFile, "--expires", "1h", "--ip-address", "10.0.0.1"}, "want a CIDR range"},
		{[]string{"sign-url", "http://d.test/a", "--key-pair-id", "K1", "--private-key", keyFile, "--expires", "1h", "--hash-algorithm", "md5"}, "want SHA1 or SHA256"},
	} {
		code, _, stderr := run(tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want 2 with %q", tc.args, code, stderr, tc.want)
		}
	}
	if code, _, stderr := run("sign-url", "http://d.test/a", "--key-pair-id", "K1", "--private-key", policyFile, "--expires", "1h"); code != 1 || !strings.Contains(stderr, "not PEM") {
		t.Errorf("a policy file as the key: exit %d %q", code, stderr)
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"1h":                   now.Add(time.Hour),
		"+30m":                 now.Add(30 * time.Minute),
		"-1m":                  now.Add(-time.Minute),
		"1767290400":           time.Unix(1767290400, 0),
		"2027-01-01":           time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		"2027-01-01T10:00:00":  time.Date(2027, 1, 1, 10, 0, 0, 0, time.UTC),
		"2027-01-01T10:00:00Z": time.Date(2027, 1, 1, 10, 0, 0, 0, time.UTC),
	} {
		if got, err := parseWhen(in, now); err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}
