package distribution

import (
	"net/netip"
	"strings"
	"testing"
)

const egressBase = `id: demo
domains: ["*"]
origins:
  - {id: web, url: "http://127.0.0.1:9001"}
  - {id: api, url: "https://api.example.com"}
behaviors:
  - {path: default, origin: web}
`

func TestEgressParseAndPolicy(t *testing.T) {
	d, err := Parse([]byte(egressBase + "egress:\n  allow: [\"10.1.0.0/16:8080\", \"*.svc.test:80\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := ToFile(d)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := Parse(out); err != nil || len(back.GetEgress().GetAllow()) != 2 {
		t.Fatalf("round trip: %v, %v\n%s", back.GetEgress(), err, out)
	}
	p := EgressPolicy(d)
	for _, tc := range []struct {
		host, addr string
		ok         bool
	}{
		{"127.0.0.1", "127.0.0.1:9001", true},     // the origin
		{"127.0.0.1", "127.0.0.1:2379", false},    // etcd beside it
		{"api.example.com", "10.0.0.1:443", true}, // an origin's name, default https port
		{"10.1.4.4", "10.1.4.4:8080", true},       // a rule
		{"x.svc.test", "192.168.0.2:80", true},    // a wildcard rule
		{"169.254.169.254", "169.254.169.254:80", false},
	} {
		if err := p.Check(tc.host, netip.MustParseAddrPort(tc.addr)); (err == nil) != tc.ok {
			t.Errorf("Check(%s, %s) = %v, want allowed=%v", tc.host, tc.addr, err, tc.ok)
		}
	}
}

func TestEgressValidationNamesTheField(t *testing.T) {
	for _, tc := range []struct{ section, want string }{
		{"egress:\n  allow: [\"api.example.com\"]\n", "egress.allow[0]: \"api.example.com\": want host:port"},
		{"egress:\n  allow: [\"ok.test:80\", \"ok.test:99999\"]\n", "egress.allow[1]: \"ok.test:99999\": port \"99999\""},
		{"egress:\n  allow: [\"10.0.0.0/40:80\"]\n", "egress.allow[0]: \"10.0.0.0/40:80\": bad CIDR prefix"},
		{"egress:\n  allowed: [\"a.test:80\"]\n", "egress.allowed: unknown field \"allowed\""},
		{"egress:\n  Allow: [\"a.test:80\"]\n", "egress.Allow: unknown field \"Allow\" (did you mean \"allow\"?)"},
	} {
		_, err := Parse([]byte(egressBase + tc.section))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.section, err, tc.want)
		}
	}
}
