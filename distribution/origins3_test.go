package distribution

import (
	"strings"
	"testing"
	"time"
)

const s3Dist = `id: media
domains: [media.test]
origins:
  - {id: web, url: "http://127.0.0.1:9001", keepaliveTimeout: 10s, sslProtocols: [TLSv1.2]}
  - id: bucket
    s3: {domainName: "127.0.0.1:9003", region: eu-west-1, authMethod: none, path: /media}
    customHeaders: {X-Bucket: "1"}
behaviors:
  - path: default
    origin: bucket
`

// TestS3Origin: an S3 origin parses into its fields (url derived), the
// custom-origin extras too, and the file round-trips through ToFile.
func TestS3Origin(t *testing.T) {
	d, err := Parse([]byte(s3Dist))
	if err != nil {
		t.Fatal(err)
	}
	web, b := d.GetOrigins()[0], d.GetOrigins()[1]
	if web.GetKeepaliveTimeout().AsDuration() != 10*time.Second || web.GetSslProtocols()[0] != "TLSv1.2" || web.GetS3() != nil {
		t.Errorf("custom origin = %v", web)
	}
	s := b.GetS3()
	if s.GetDomainName() != "127.0.0.1:9003" || s.GetRegion() != "eu-west-1" || s.GetAuthMethod() != "none" || s.GetPath() != "/media" ||
		b.GetUrl() != "http://127.0.0.1:9003/media" || b.GetCustomHeaders()["X-Bucket"] != "1" {
		t.Errorf("s3 origin = %v", b)
	}
	out, err := ToFile(d)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatalf("re-parse %s: %v", out, err)
	}
	if again.GetOrigins()[1].GetS3().GetPath() != "/media" || strings.Contains(string(out), "url: http://127.0.0.1:9003") {
		t.Errorf("round trip:\n%s", out)
	}
}

// TestS3OriginErrors: each bad S3 or custom-origin extra is an error naming its field.
func TestS3OriginErrors(t *testing.T) {
	for _, tc := range []struct{ from, to, field string }{
		{"  - id: bucket\n", "  - id: bucket\n    url: \"http://x\"\n", "origins[1]: set url (a custom origin) or s3"},
		{`domainName: "127.0.0.1:9003"`, `domainName: ""`, "origins[1].s3.domainName"},
		{`domainName: "127.0.0.1:9003"`, `domainName: "http://bucket/x"`, "origins[1].s3.domainName"},
		{`authMethod: none`, `authMethod: sigv4`, "origins[1].s3.authMethod"},
		{`path: /media}`, `path: media/}`, "origins[1].s3.path"},
		{`region: eu-west-1`, `regio: eu-west-1`, "origins[1].s3.regio"},
		{`sslProtocols: [TLSv1.2]`, `sslProtocols: [TLSv1.3]`, "origins[0].sslProtocols"},
		{`keepaliveTimeout: 10s`, `keepaliveTimeout: 90s`, "origins[0].keepaliveTimeout"},
	} {
		y := strings.Replace(s3Dist, tc.from, tc.to, 1)
		if y == s3Dist {
			t.Fatalf("%s: replacement did not apply", tc.field)
		}
		_, err := Parse([]byte(y))
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: err = %v", tc.field, err)
		}
	}
}
