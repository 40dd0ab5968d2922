package distribution_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/distribution"
)

// indentedPEM encodes a public key for a YAML block scalar at 10 spaces.
func indentedPEM(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	return strings.ReplaceAll(s, "\n", "\n          ")
}

func keyGroupFile(pemKey, trusted string) string {
	return base + fmt.Sprintf(`  - {path: "/private/*", origin: web, trustedKeyGroups: [%s]}
  - path: default
    origin: web
keyGroups:
  - id: premium
    name: premium-viewers
    publicKeys:
      - id: K2JCJMDEHXQW5F
        encodedKey: |
          %s
`, trusted, pemKey)
}

func TestKeyGroups(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	d, err := distribution.Parse([]byte(keyGroupFile(indentedPEM(t, &key.PublicKey), "premium")))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := distribution.TrustedKeys(d, d.GetBehaviors()[0])
	if err != nil || len(keys) != 1 || !keys["K2JCJMDEHXQW5F"].Equal(&key.PublicKey) {
		t.Fatalf("TrustedKeys = %v, %v", keys, err)
	}
	if keys, _ := distribution.TrustedKeys(d, d.GetBehaviors()[1]); keys != nil {
		t.Errorf("the default behavior trusts %v, want none", keys)
	}
	out, err := distribution.ToFile(d)
	if err != nil {
		t.Fatal(err)
	}
	again, err := distribution.Parse(out)
	if err != nil {
		t.Fatalf("ToFile output does not parse: %v\n%s", err, out)
	}
	if !proto.Equal(d, again) {
		t.Errorf("round trip differs:\n%s", out)
	}
}

func TestKeyGroupErrors(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	good := indentedPEM(t, &key.PublicKey)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, file, want string }{
		{"malformed key", keyGroupFile("-----BEGIN PUBLIC KEY-----\n          bm90IGEga2V5\n          -----END PUBLIC KEY-----", "premium"),
			"keyGroups[0].publicKeys[0].encodedKey: malformed public key"},
		{"not PEM", keyGroupFile("hello", "premium"), "keyGroups[0].publicKeys[0].encodedKey: not PEM"},
		{"not RSA", keyGroupFile(indentedPEM(t, &ec.PublicKey), "premium"), "keyGroups[0].publicKeys[0].encodedKey: the key is *ecdsa.PublicKey, CloudFront key groups hold RSA keys"},
		{"unknown key group", keyGroupFile(good, "premum"), `behaviors[0].trustedKeyGroups[0]: unknown key group "premum"`},
		{"duplicate trusted group", keyGroupFile(good, "premium, premium"), `behaviors[0].trustedKeyGroups[1]: duplicate key group "premium"`},
		{"bad key id", strings.Replace(keyGroupFile(good, "premium"), "K2JCJMDEHXQW5F", "K 1", 1), `keyGroups[0].publicKeys[0].id: "K 1" is not a valid key id`},
		{"no keys", base + "  - {path: default, origin: web}\nkeyGroups: [{id: empty, publicKeys: []}]\n", "keyGroups[0].publicKeys: 0 public keys, want 1 to 5"},
	} {
		_, err := distribution.Parse([]byte(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}
