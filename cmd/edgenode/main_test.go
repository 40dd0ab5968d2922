package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/edgenode/replica"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name          string
		args          []string
		wantErr       string
		controlPlanes []string
		publicURL     string
		stateDir      string
		cacheBytes    int64
		viewerTimeout time.Duration
		dists, fns    []string
		// limits: header timeout, idle timeout, header count, body bytes.
		limits [4]int64
	}{
		{name: "defaults", cacheBytes: 256 << 20},
		{
			name:          "compose and k8s aliases",
			args:          []string{"--id=use1-a", "--region=us-east-1", "--pop=IAD", "--listen=:8080", "--advertise-url=http://edge-use1-a:8080", "--controlplanes=cp1:7070,cp2:7070", "--state-dir=/data/state", "--insecure"},
			controlPlanes: []string{"cp1:7070", "cp2:7070"},
			publicURL:     "http://edge-use1-a:8080",
			stateDir:      "/data/state",
			cacheBytes:    256 << 20,
		},
		{
			name:          "canonical names",
			args:          []string{"--insecure", "--control-plane= cp1:7070 ,", "--public-url=http://e:8080", "--cache-mb=1", "--viewer-timeout=2s"},
			controlPlanes: []string{"cp1:7070"},
			publicURL:     "http://e:8080",
			cacheBytes:    1 << 20,
			viewerTimeout: 2 * time.Second,
		},
		{
			name:       "file mode",
			args:       []string{"--distribution=a.yaml", "--distribution=b.yaml", "--function=auth:1=./auth"},
			cacheBytes: 256 << 20,
			dists:      []string{"a.yaml", "b.yaml"},
			fns:        []string{"auth:1=./auth"},
		},
		{
			name:       "viewer listener limits",
			args:       []string{"--header-timeout=3s", "--idle-timeout=1m", "--max-header-count=50", "--max-body-bytes=1048576"},
			cacheBytes: 256 << 20,
			limits:     [4]int64{int64(3 * time.Second), int64(time.Minute), 50, 1 << 20},
		},
		{name: "negative header timeout", args: []string{"--header-timeout=-1s"}, wantErr: "--header-timeout"},
		{name: "negative idle timeout", args: []string{"--idle-timeout=-1s"}, wantErr: "--idle-timeout"},
		{name: "negative header count", args: []string{"--max-header-count=-1"}, wantErr: "--max-header-count"},
		{name: "negative body limit", args: []string{"--max-body-bytes=-1"}, wantErr: "--max-body-bytes"},
		{name: "function without distribution", args: []string{"--function=./auth"}, wantErr: "--distribution"},
		{name: "zero cache", args: []string{"--cache-mb=0"}, wantErr: "--cache-mb"},
		{name: "control plane without certificates", args: []string{"--control-plane=cp1:7070"}, wantErr: "--pki-dir is required"},
		{name: "certificates missing", args: []string{"--control-plane=cp1:7070", "--pki-dir=/nonexistent"}, wantErr: "--pki-dir"},
		{name: "negative cache", args: []string{"--cache-mb=-5"}, wantErr: "--cache-mb"},
		{name: "pprof without metrics listener", args: []string{"--pprof"}, wantErr: "--metrics-listen"},
		{name: "bad duration", args: []string{"--viewer-timeout=soon"}, wantErr: "viewer-timeout"},
		{name: "unknown flag", args: []string{"--bogus"}, wantErr: "bogus"},
		{name: "stray argument", args: []string{"serve"}, wantErr: "unexpected arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(tc.args, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := o.process
			if !slices.Equal(p.ControlPlanes, tc.controlPlanes) {
				t.Errorf("control planes = %q, want %q", p.ControlPlanes, tc.controlPlanes)
			}
			if p.PublicURL != tc.publicURL || p.StateDir != tc.stateDir {
				t.Errorf("public url %q state dir %q, want %q %q", p.PublicURL, p.StateDir, tc.publicURL, tc.stateDir)
			}
			if p.Node.CacheBytes != tc.cacheBytes {
				t.Errorf("cache bytes = %d, want %d", p.Node.CacheBytes, tc.cacheBytes)
			}
			if tc.viewerTimeout != 0 && p.Node.Profile.Viewer.Timeout != tc.viewerTimeout {
				t.Errorf("viewer timeout = %v, want %v", p.Node.Profile.Viewer.Timeout, tc.viewerTimeout)
			}
			if p.Node.Profile.Viewer.Timeout <= 0 {
				t.Errorf("viewer timeout not defaulted: %v", p.Node.Profile.Viewer.Timeout)
			}
			n := p.Node
			if got := [4]int64{int64(n.ReadHeaderTimeout), int64(n.IdleTimeout), int64(n.MaxHeaderCount), n.MaxBodyBytes}; got != tc.limits {
				t.Errorf("listener limits = %v, want %v", got, tc.limits)
			}
			if !slices.Equal(o.dists, tc.dists) || !slices.Equal(o.fns, tc.fns) {
				t.Errorf("files = %q %q, want %q %q", o.dists, o.fns, tc.dists, tc.fns)
			}
		})
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--listen=127.0.0.1:0", "--state-dir=" + t.TempDir()}, io.Discard)
	}()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "bad listen address", args: []string{"--listen=256.0.0.1:bad"}, wantErr: "256.0.0.1"},
		{name: "missing distribution file", args: []string{"--listen=127.0.0.1:0", "--distribution=/nonexistent/dist.yaml"}, wantErr: "loading files"},
		{name: "corrupt persisted state", args: []string{"--listen=127.0.0.1:0", "--state-dir=" + corruptStateDir(t)}, wantErr: "state"},
		{name: "bad metrics address", args: []string{"--listen=127.0.0.1:0", "--metrics-listen=256.0.0.1:bad"}, wantErr: "metrics listen"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := run(ctx, tc.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// corruptStateDir is a state dir whose every file holds garbage.
func corruptStateDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"state.pb", "state.json", "state"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("\xff\x00not a snapshot"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := replica.LoadState(dir); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadState on garbage = %v; the test needs the real state file name", err)
	}
	return dir
}
