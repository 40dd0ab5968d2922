// Package adminauth guards the lab's HTTP admin endpoints (the sample
// origin's /_admin/ API, and any other that changes state): it refuses
// cross-site requests, bodies that are not JSON, and, when a token is
// configured, requests without it.
//
//	request ──► cross-origin check ──► JSON body check ──► bearer token ──► next
//	            (Sec-Fetch-Site /      (POST, PUT, PATCH:   (when a token
//	             Origin, 403)           application/json,    is set, 401)
//	                                    415)
//
// A web page a trainer opens cannot reach these endpoints: a browser
// marks its requests cross-site (Sec-Fetch-Site, Origin), and a cross-site
// form can only send text/plain, form-urlencoded or multipart bodies.
package adminauth

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"strings"
)

// EnvToken is the environment variable LoadToken reads when no token file
// is given.
const EnvToken = "EDGELAB_ADMIN_TOKEN"

// Protect returns next behind the checks in the package doc. token is the
// bearer token every request must carry ("Authorization: Bearer TOKEN");
// empty means none is required (the cross-site and JSON checks still
// apply).
func Protect(token string, next http.Handler) http.Handler {
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "cross-origin request refused: admin endpoints accept only same-origin or non-browser requests", http.StatusForbidden)
	}))
	return csrf.Handler(RequireJSON(requireToken(token, next)))
}

// RequireJSON refuses a POST, PUT or PATCH whose Content-Type is not
// application/json with 415: no cross-site form can send one.
func RequireJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				http.Error(w, r.Method+" bodies must be application/json", http.StatusUnsupportedMediaType)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// requireToken refuses a request without "Authorization: Bearer token"
// with 401 (token "" lets every request through).
func requireToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="edgelab admin"`)
			http.Error(w, "admin endpoints need a bearer token (Authorization: Bearer <token>)", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// LoadToken returns the admin token: the first line of file when file is
// not empty, else the EnvToken environment variable, else "" (no token).
// An empty token file is an error, so that a misconfigured deployment
// does not run open.
func LoadToken(file string) (string, error) {
	if file == "" {
		return strings.TrimSpace(os.Getenv(EnvToken)), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("reading the admin token file: %w", err)
	}
	tok, _, _ := strings.Cut(string(b), "\n")
	if tok = strings.TrimSpace(tok); tok == "" {
		return "", fmt.Errorf("admin token file %s: %w", file, errEmptyToken)
	}
	return tok, nil
}

var errEmptyToken = errors.New("the file holds no token")

// SetToken adds token to an outgoing admin request as its bearer token
// (nothing when token is empty): what callers of a Protect-ed endpoint use.
func SetToken(r *http.Request, token string) {
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
}
