package origin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func start(t *testing.T, id string) *Server {
	t.Helper()
	s, err := New(Config{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		_ = s.Close()
	})
	return s
}

func get(t *testing.T, method, url, body string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(url, "/_admin/") && body != "" {
		req.Header.Set("Content-Type", "application/json") // as every admin client sends
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func TestRoutes(t *testing.T) {
	s := start(t, "o1")
	tests := []struct {
		method, path string
		status       int
		cc           string
		bodyLen      int
		contains     string
	}{
		{"GET", "/objects/1k?cc=max-age%3D60", 200, "max-age=60", 1024, ""},
		{"GET", "/objects/10", 200, "", 10, "abcdefghij"},
		{"GET", "/objects/nope", 400, "", -1, "bad size"},
		{"GET", "/objects/999999999999", 400, "", -1, "bad size"},
		{"GET", "/static/a.css", 200, "public, max-age=31536000, immutable", -1, "static /static/a.css"},
		{"GET", "/static/a.nostore", 200, "no-store", -1, ""},
		{"GET", "/gen/page", 200, "no-cache", -1, "<h1>/gen/page</h1>"},
		{"GET", "/status/418", 418, "", -1, "status 418"},
		{"GET", "/status/700", 400, "", -1, ""},
		{"GET", "/nothing", 404, "", -1, ""},
		{"HEAD", "/objects/100", 200, "", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			resp, body, err := get(t, tc.method, s.URL()+tc.path, "")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.Header.Get("X-Origin-Id"); got != "o1" {
				t.Errorf("X-Origin-Id %q", got)
			}
			if tc.cc != "" && resp.Header.Get("Cache-Control") != tc.cc {
				t.Errorf("Cache-Control %q, want %q", resp.Header.Get("Cache-Control"), tc.cc)
			}
			if tc.bodyLen >= 0 && len(body) != tc.bodyLen {
				t.Errorf("body length %d, want %d", len(body), tc.bodyLen)
			}
			if !strings.Contains(body, tc.contains) {
				t.Errorf("body %q does not contain %q", body, tc.contains)
			}
		})
	}
}

func TestEcho(t *testing.T) {
	s := start(t, "o1")
	req, _ := http.NewRequest("POST", s.URL()+"/echo/x?a=1", strings.NewReader("hello"))
	req.Header.Set("X-Test", "v")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e Echo
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if e.Method != "POST" || e.Path != "/echo/x" || e.Query != "a=1" || e.Body != "hello" || e.Headers.Get("X-Test") != "v" || e.Origin != "o1" {
		t.Fatalf("echo = %+v", e)
	}
}

func TestFaultsAdminAPI(t *testing.T) {
	s := start(t, "o1")
	post := func(js string) int {
		resp, _, err := get(t, "POST", s.URL()+"/_admin/faults", js)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	// Hostile / invalid fault JSON is refused.
	for _, bad := range []string{`{`, `{"errorRate": 2}`, `{"status": 700, "errorRate": 1}`, `{"latency": "soon"}`, `{"bogus": 1}`, `{"latency": "-1s"}`} {
		if code := post(bad); code != 400 {
			t.Errorf("POST %s -> %d, want 400", bad, code)
		}
	}
	if code := post(`{"path": "/objects/", "errorRate": 1, "status": 502}`); code != 204 {
		t.Fatalf("set fault: %d", code)
	}
	if resp, _, _ := get(t, "GET", s.URL()+"/objects/10", ""); resp.StatusCode != 502 {
		t.Fatalf("faulted path answered %d, want 502", resp.StatusCode)
	}
	if resp, _, _ := get(t, "GET", s.URL()+"/static/a.css", ""); resp.StatusCode != 200 {
		t.Fatalf("other path answered %d, want 200", resp.StatusCode)
	}
	// Outage: connection closed without an answer.
	if code := post(`{"path": "/gen/", "outage": true}`); code != 204 {
		t.Fatalf("set outage: %d", code)
	}
	if _, _, err := get(t, "GET", s.URL()+"/gen/x", ""); err == nil {
		t.Fatal("outage path answered")
	}
	// Reset mid-body: the client sees a short body error.
	if code := post(`{"path": "/static/", "resetBody": true}`); code != 204 {
		t.Fatal("set resetBody")
	}
	if _, _, err := get(t, "GET", s.URL()+"/static/big.css", ""); err == nil {
		t.Fatal("reset body read without error")
	}
	if n := len(s.Faults()); n != 3 {
		t.Fatalf("%d faults, want 3", n)
	}
	if resp, _, _ := get(t, "DELETE", s.URL()+"/_admin/faults?path=/gen/", ""); resp.StatusCode != 204 {
		t.Fatal("heal one")
	}
	if n := len(s.Faults()); n != 2 {
		t.Fatalf("%d faults after healing one, want 2", n)
	}
	if resp, _, _ := get(t, "DELETE", s.URL()+"/_admin/faults", ""); resp.StatusCode != 204 {
		t.Fatal("heal all")
	}
	if resp, _, _ := get(t, "GET", s.URL()+"/objects/10", ""); resp.StatusCode != 200 {
		t.Fatalf("healed path answered %d", resp.StatusCode)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{{"0", 0, true}, {"12", 12, true}, {"4k", 4096, true}, {"2M", 2 << 20, true}, {"-1", 0, false}, {"", 0, false}, {"k", 0, false}, {"99999999999999999999", 0, false}}
	for _, tc := range tests {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseSize(%q) = %d, %v", tc.in, got, err)
		}
	}
}

// TestAdminRefusesCrossSiteAndAnonymous: a web page cannot set faults (a
// cross-site text/plain POST, which a browser sends without a preflight),
// and with a token configured nothing without it gets through.
func TestAdminRefusesCrossSiteAndAnonymous(t *testing.T) {
	s, err := New(Config{ID: "o1", AdminToken: "s3cr3t"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	send := func(method, ctype, token string, extra map[string]string) int {
		req, err := http.NewRequest(method, s.URL()+"/_admin/faults", strings.NewReader(`{"path":"/","errorRate":1}`))
		if err != nil {
			t.Fatal(err)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for k, v := range extra {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	crossSite := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.test"}
	for _, tc := range []struct {
		name          string
		method, ctype string
		token         string
		extra         map[string]string
		want          int
	}{
		{"cross-site text/plain POST with the token", "POST", "text/plain", "s3cr3t", crossSite, http.StatusForbidden},
		{"cross-site text/plain POST", "POST", "text/plain", "", crossSite, http.StatusForbidden},
		{"text/plain POST with the token", "POST", "text/plain", "s3cr3t", nil, http.StatusUnsupportedMediaType},
		{"JSON POST without the token", "POST", "application/json", "", nil, http.StatusUnauthorized},
		{"GET without the token", "GET", "", "", nil, http.StatusUnauthorized},
		{"DELETE with a wrong token", "DELETE", "", "guess", nil, http.StatusUnauthorized},
	} {
		if got := send(tc.method, tc.ctype, tc.token, tc.extra); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
	if f := s.Faults(); len(f) != 0 {
		t.Fatalf("a refused request set a fault: %+v", f)
	}
	if got := send("POST", "application/json", "s3cr3t", nil); got != http.StatusNoContent {
		t.Fatalf("JSON POST with the token: status %d, want 204", got)
	}
	if f := s.Faults(); len(f) != 1 {
		t.Fatalf("faults after an authorised POST: %+v", f)
	}
}
