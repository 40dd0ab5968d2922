package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRun(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer ok.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcpAddr := ln.Addr().String()
	defer ln.Close()
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()

	tests := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"200", []string{ok.URL + "/health"}, false},
		{"503", []string{ok.URL + "/bad"}, true},
		{"one of two fails", []string{ok.URL, ok.URL + "/bad"}, true},
		{"tcp open", []string{tcpAddr}, false},
		{"tcp closed", []string{deadAddr}, true},
		{"http closed", []string{"http://" + deadAddr + "/"}, true},
		{"no args", nil, true},
		{"bad flag", []string{"--nope"}, true},
		{"garbage url", []string{"http://[::1"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := run(tc.args, io.Discard)
			if (err != nil) != tc.wantErr {
				t.Fatalf("run(%q) = %v, wantErr %v", tc.args, err, tc.wantErr)
			}
		})
	}
}
