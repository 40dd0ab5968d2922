package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgelab/edgelab/gateway"
)

func TestParseEdges(t *testing.T) {
	tests := []struct {
		in      string
		want    []gateway.Edge
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "a=us-east-1=http://a:8080", want: []gateway.Edge{{ID: "a", Region: "us-east-1", URL: "http://a:8080"}}},
		{in: " a=us-east-1/IAD=http://a:8080 , b=eu-west-1=http://b:1/x?y=z ", want: []gateway.Edge{
			{ID: "a", Region: "us-east-1", PoP: "IAD", URL: "http://a:8080"},
			{ID: "b", Region: "eu-west-1", URL: "http://b:1/x?y=z"},
		}},
		{in: "a=us-east-1", wantErr: true},
		{in: "=us-east-1=http://a", wantErr: true},
		{in: "a==http://a", wantErr: true},
		{in: "a=r=", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseEdges(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("edge %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestLoadEdgesFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		wantN         int
		wantErr       bool
	}{
		{"json list", `[{"id":"a","region":"us-east-1","url":"http://a"}]`, 1, false},
		{"lab.json", `{"gateway":"http://g","edges":[{"id":"a","region":"us-east-1","pop":"IAD","url":"http://a"},{"id":"b","region":"eu-west-1","url":"http://b"}]}`, 2, false},
		{"yaml list", "- {id: a, region: us-east-1, url: 'http://a'}\n", 1, false},
		{"garbage", "{{{", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := loadEdgesFile(p)
			if (err != nil) != tc.wantErr || len(got) != tc.wantN {
				t.Fatalf("got %+v, %v; want %d edges, wantErr %v", got, err, tc.wantN, tc.wantErr)
			}
		})
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no edges", []string{"--listen", "127.0.0.1:0"}},
		{"bad edge", []string{"--edges", "x"}},
		{"unknown default region", []string{"--edges", "a=us-east-1=http://a", "--default-region", "mars-1"}},
		{"bad log level", []string{"--edges", "a=us-east-1=http://a", "--log-level", "loud"}},
		{"missing topology", []string{"--edges", "a=us-east-1=http://a", "--topology", "/nonexistent"}},
		{"stray arg", []string{"extra"}},
		{"control planes without certificates", []string{"--controlplanes", "127.0.0.1:1", "--listen", "127.0.0.1:0"}},
		{"bad edge url", []string{"--edges", "a=us-east-1=ftp://a", "--listen", "127.0.0.1:0"}},
		{"bad latency model", []string{"--edges", "a=us-east-1=http://a", "--listen", "127.0.0.1:0", "--latency-model", "fast"}},
		{"latency scale out of range", []string{"--edges", "a=us-east-1=http://a", "--listen", "127.0.0.1:0", "--latency-model", "1000"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := run(context.Background(), tc.args, io.Discard); err == nil {
				t.Fatalf("run(%q) succeeded", tc.args)
			}
		})
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := run(ctx, []string{"--listen", "127.0.0.1:0", "--edges", "a=us-east-1=http://127.0.0.1:1", "--controlplanes", "127.0.0.1:1", "--insecure"}, io.Discard); err != nil {
		t.Fatalf("run: %v", err)
	}
}
