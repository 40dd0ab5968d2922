package adminauth

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProtect(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, tc := range []struct {
		name   string
		token  string
		method string
		header map[string]string
		want   int
	}{
		{"cross-site text/plain POST", "", "POST", map[string]string{"Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site", "Origin": "http://evil.test"}, http.StatusForbidden},
		{"cross-site JSON POST", "", "POST", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"foreign Origin without Sec-Fetch-Site", "", "DELETE", map[string]string{"Origin": "http://evil.test"}, http.StatusForbidden},
		{"text/plain POST from a script", "", "POST", map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType},
		{"form POST", "", "PUT", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"JSON POST from a script", "", "POST", map[string]string{"Content-Type": "application/json; charset=utf-8"}, http.StatusNoContent},
		{"same-origin JSON POST", "", "POST", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"}, http.StatusNoContent},
		{"GET without token, none configured", "", "GET", nil, http.StatusNoContent},
		{"GET without token", "s3cr3t", "GET", nil, http.StatusUnauthorized},
		{"POST with a wrong token", "s3cr3t", "POST", map[string]string{"Content-Type": "application/json", "Authorization": "Bearer nope"}, http.StatusUnauthorized},
		{"token not as bearer", "s3cr3t", "GET", map[string]string{"Authorization": "s3cr3t"}, http.StatusUnauthorized},
		{"POST with the token", "s3cr3t", "POST", map[string]string{"Content-Type": "application/json", "Authorization": "Bearer s3cr3t"}, http.StatusNoContent},
		{"DELETE with the token", "s3cr3t", "DELETE", map[string]string{"Authorization": "Bearer s3cr3t"}, http.StatusNoContent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://origin.test/_admin/faults", strings.NewReader(`{}`))
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			Protect(tc.token, ok).ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Errorf("status %d, want %d (body %q)", w.Code, tc.want, w.Body)
			}
			if tc.want == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestLoadToken(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "token")
	if err := os.WriteFile(good, []byte("abc123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvToken, "from-env")
	if tok, err := LoadToken(good); err != nil || tok != "abc123" {
		t.Errorf("LoadToken(file) = %q, %v", tok, err)
	}
	if tok, err := LoadToken(""); err != nil || tok != "from-env" {
		t.Errorf("LoadToken(\"\") = %q, %v; want the env token", tok, err)
	}
	if _, err := LoadToken(empty); err == nil || !strings.Contains(err.Error(), empty) {
		t.Errorf("LoadToken(empty file) = %v; want an error naming the file", err)
	}
	if _, err := LoadToken(filepath.Join(dir, "missing")); err == nil {
		t.Error("LoadToken(missing file) succeeded")
	}
}
