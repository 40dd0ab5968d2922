package jwtauth

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edge/edgetest"
)

func token(t *testing.T, secret string, exp time.Time) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "exp": exp.Unix()}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestViewerRequest(t *testing.T) {
	future, past := time.Now().Add(time.Hour), time.Now().Add(-time.Hour)
	tests := []struct {
		name       string
		auth       string
		wantStatus int // 0: forwarded
	}{
		{"valid token", "Bearer " + token(t, Secret, future), 0},
		{"no header", "", 403},
		{"wrong scheme", "Basic abc", 403},
		{"expired", "Bearer " + token(t, Secret, past), 403},
		{"wrong secret", "Bearer " + token(t, "guess", future), 403},
		{"garbage", "Bearer not-a-jwt", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, rt := edgetest.Context(t, edge.Info{EventType: edge.ViewerRequest})
			req := edgetest.NewRequest("GET", "/private/report")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := ViewerRequest(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantStatus == 0 {
				if resp != nil {
					t.Fatalf("got %d, want forwarded", resp.Status)
				}
				if req.Header.Get("X-User") != "alice" {
					t.Errorf("X-User = %q", req.Header.Get("X-User"))
				}
				return
			}
			if resp == nil || resp.Status != tt.wantStatus {
				t.Fatalf("resp = %+v, want %d", resp, tt.wantStatus)
			}
			if len(rt.Logs()) != 1 {
				t.Errorf("logs = %q", rt.Logs())
			}
		})
	}
}
