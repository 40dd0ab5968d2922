package egress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/edge"
)

func mustRules(t *testing.T, rules ...string) *Policy {
	t.Helper()
	p := &Policy{}
	for _, s := range rules {
		r, err := ParseRule(s)
		if err != nil {
			t.Fatal(err)
		}
		p.Allow = append(p.Allow, r)
	}
	return p
}

func TestCheck(t *testing.T) {
	p := mustRules(t, "127.0.0.1:9001", "api.example.com:443", "*.svc.test:80", "10.1.0.0/16:8080", "[fd00::1]:80")
	for _, tc := range []struct {
		host, addr string
		ok         bool
	}{
		{"127.0.0.1", "127.0.0.1:9001", true},  // an allowed origin on loopback
		{"127.0.0.1", "127.0.0.1:2379", false}, // etcd's client port next to it
		{"localhost", "127.0.0.1:9001", true},  // an IP rule matches the dialled address
		{"evil.test", "127.0.0.1:2379", false}, // a name resolving to loopback (rebinding)
		{"169.254.169.254", "169.254.169.254:80", false},
		{"[fe80::1]", "[fe80::1]:80", false},
		{"10.0.0.1", "10.0.0.1:80", false},
		{"172.20.0.3", "172.20.0.3:80", false},
		{"192.168.1.1", "192.168.1.1:80", false},
		{"0.0.0.0", "0.0.0.0:9001", false},
		{"::", "[::]:80", false},
		{"::ffff:127.0.0.1", "[::ffff:127.0.0.1]:2379", false}, // v4-mapped loopback
		{"[fd00::2]", "[fd00::2]:80", false},
		{"fd00::1", "[fd00::1]:80", true},
		{"10.1.2.3", "10.1.2.3:8080", true},
		{"10.1.2.3", "10.1.2.3:8081", false},
		{"api.example.com", "10.9.9.9:443", true},  // a listed name is trusted
		{"API.Example.com.", "10.9.9.9:443", true}, // case and trailing dot
		{"api.example.com", "10.9.9.9:80", false},  // not on another port
		{"a.svc.test", "172.16.0.9:80", true},
		{"svc.test", "172.16.0.9:80", false},       // the wildcard is for subdomains
		{"example.org", "93.184.215.14:443", true}, // public: allowed by default
		{"example.org", "100.64.0.1:443", false},
	} {
		err := p.Check(tc.host, netip.MustParseAddrPort(tc.addr))
		if (err == nil) != tc.ok {
			t.Errorf("Check(%s, %s) = %v, want allowed=%v", tc.host, tc.addr, err, tc.ok)
		}
		if err != nil && !errors.Is(err, edge.ErrEgressDenied) {
			t.Errorf("Check(%s, %s) error %v does not wrap edge.ErrEgressDenied", tc.host, tc.addr, err)
		}
	}
	var none *Policy
	if err := none.Check("x", netip.MustParseAddrPort("127.0.0.1:80")); !errors.Is(err, edge.ErrEgressDenied) {
		t.Errorf("nil policy allowed loopback: %v", err)
	}
}

func TestParseRuleRefusesBadInput(t *testing.T) {
	for _, s := range []string{"", "example.com", "example.com:0", "example.com:65536", "example.com:http",
		":80", "exa mple.com:80", "10.0.0.0/33:80", "a..b:80", "*.:80", "1.2.3.4/8/9:80"} {
		if r, err := ParseRule(s); err == nil {
			t.Errorf("ParseRule(%q) = %v, want an error", s, r)
		}
	}
}

func TestEncodeDecode(t *testing.T) {
	p := mustRules(t, "127.0.0.1:9001", "*.svc.test:80", "10.1.0.0/16:8080", "[fd00::1]:80")
	q, err := Decode(p.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if q.Encode() != p.Encode() || len(q.Allow) != 4 {
		t.Fatalf("round trip %q -> %q", p.Encode(), q.Encode())
	}
	if err := q.Check("10.1.0.7", netip.MustParseAddrPort("10.1.0.7:8080")); err != nil {
		t.Errorf("decoded CIDR rule lost: %v", err)
	}
	if _, err := Decode("a:1,bad"); err == nil {
		t.Error("Decode of a bad rule succeeded")
	}
}

// TestClientChecksDialledAddressAndRedirects: the client refuses a
// loopback server the policy does not name, a name that resolves to
// loopback, and a redirect from an allowed server to a refused one.
func TestClientChecksDialledAddressAndRedirects(t *testing.T) {
	secret := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secret") }))
	defer secret.Close()
	allowed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, secret.URL+"/", http.StatusFound)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer allowed.Close()
	p := mustRules(t, strings.TrimPrefix(allowed.URL, "http://"))
	c := Client(p, time.Second)
	defer c.CloseIdleConnections()
	get := func(url string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	if body, err := get(allowed.URL + "/"); err != nil || body != "ok" {
		t.Fatalf("allowed origin: %q, %v", body, err)
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(secret.URL, "http://"))
	for _, url := range []string{secret.URL + "/", "http://localhost:" + port + "/", allowed.URL + "/redirect"} {
		if _, err := get(url); !errors.Is(err, edge.ErrEgressDenied) {
			t.Errorf("GET %s: %v, want edge.ErrEgressDenied", url, err)
		}
	}
}
