package main

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/controlplane/dashboard"
	"github.com/edgelab/edgelab/pki"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name         string
		args         []string
		wantErr      string
		listen       string
		metrics      string
		endpoints    []string
		id           string
		profile      string
		wantTopology bool
	}{
		{name: "defaults", args: []string{"--insecure"}, listen: "127.0.0.1:7070"},
		{name: "neither certificates nor insecure", args: nil, wantErr: "--pki-dir is required"},
		{name: "missing certificates", args: []string{"--id=cp1", "--pki-dir=/nonexistent"}, wantErr: "--pki-dir"},
		{
			name:   "compose and k8s flags",
			args:   []string{"--insecure", "--id=cp1", "--listen=:7070", "--http-listen=:7080", "--etcd-endpoints=etcd1:2379, etcd2:2379,,etcd3:2379"},
			listen: ":7070", metrics: ":7080", id: "cp1",
			endpoints: []string{"etcd1:2379", "etcd2:2379", "etcd3:2379"},
		},
		{name: "metrics-listen", args: []string{"--insecure", "--metrics-listen=:9100"}, listen: "127.0.0.1:7070", metrics: ":9100"},
		{name: "built-in topology file", args: []string{"--insecure", "--topology=../../deploy/topology/default.yaml", "--profile=instant"}, listen: "127.0.0.1:7070", profile: "instant", wantTopology: true},
		{name: "missing topology", args: []string{"--topology=/nonexistent/topology.yaml"}, wantErr: "--topology"},
		{name: "unknown flag", args: []string{"--bogus"}, wantErr: "bogus"},
		{name: "stray argument", args: []string{"serve"}, wantErr: "unexpected arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseFlags(tc.args, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ListenAddr != tc.listen || cfg.MetricsAddr != tc.metrics || cfg.ID != tc.id || cfg.DelayProfile != tc.profile {
				t.Errorf("got listen %q metrics %q id %q profile %q", cfg.ListenAddr, cfg.MetricsAddr, cfg.ID, cfg.DelayProfile)
			}
			if !slices.Equal(cfg.EtcdEndpoints, tc.endpoints) {
				t.Errorf("etcd endpoints = %q, want %q", cfg.EtcdEndpoints, tc.endpoints)
			}
			if (cfg.Topology != nil) != tc.wantTopology {
				t.Errorf("topology loaded = %v, want %v", cfg.Topology != nil, tc.wantTopology)
			}
		})
	}
}

func TestDashboardFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"--insecure",
		"--edge-metrics-urls=http://edge-a:9100/metrics, ,http://edge-b:9100/metrics",
		"--dashboard-peers=cp1=http://127.0.0.1:7080/,cp2=http://127.0.0.1:7081/",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sc, ok := cfg.EdgeMetrics.(dashboard.Scraper)
	if !ok || !slices.Equal(sc.URLs, []string{"http://edge-a:9100/metrics", "http://edge-b:9100/metrics"}) {
		t.Fatalf("edge metrics %#v", cfg.EdgeMetrics)
	}
	if cfg.DashboardReplicas == nil {
		t.Fatal("no dashboard replicas")
	}
	if r := cfg.DashboardReplicas(); len(r) != 2 || r[1] != (dashboard.Replica{ID: "cp2", URL: "http://127.0.0.1:7081/"}) {
		t.Fatalf("replicas %v", r)
	}
	for _, bad := range []string{"cp1", "=http://x/", "cp1=ftp://x/"} {
		if _, err := parseFlags([]string{"--insecure", "--dashboard-peers=" + bad}, io.Discard); err == nil {
			t.Errorf("--dashboard-peers=%s accepted", bad)
		}
	}
	if cfg, err := parseFlags([]string{"--insecure"}, io.Discard); err != nil || cfg.EdgeMetrics != nil || cfg.DashboardReplicas != nil {
		t.Fatalf("defaults: %v %v", err, cfg.EdgeMetrics)
	}
}

// --etcd-pki-dir gives the etcd client a certificate from etcd's CA; it
// needs --id and readable files, and without it etcd is plaintext.
func TestEtcdPKIDirFlag(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.Issue(pki.Leaf{Identity: pki.Identity{Kind: pki.KindControlPlane, Name: "cp1"}, Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := (pki.Bundle{Dir: dir, Name: "cp1"}).Write(c, ca.CertPEM()); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseFlags([]string{"--insecure", "--id=cp1", "--etcd-pki-dir=" + dir}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.EtcdTLS == nil || cfg.EtcdTLS.RootCAs == nil || cfg.EtcdTLS.GetClientCertificate == nil {
		t.Fatalf("EtcdTLS = %+v: want etcd's CA and the replica's certificate", cfg.EtcdTLS)
	}
	if cfg, _ := parseFlags([]string{"--insecure"}, io.Discard); cfg.EtcdTLS != nil {
		t.Fatal("EtcdTLS set without --etcd-pki-dir")
	}
	for _, args := range [][]string{
		{"--insecure", "--etcd-pki-dir=" + dir},                   // no --id
		{"--insecure", "--id=cp2", "--etcd-pki-dir=" + dir},       // no cp2.crt
		{"--insecure", "--id=cp1", "--etcd-pki-dir=/nonexistent"}, // no CA
	} {
		if _, err := parseFlags(args, io.Discard); err == nil || !strings.Contains(err.Error(), "--etcd-pki-dir") && !strings.Contains(err.Error(), "--id") {
			t.Errorf("%q: err = %v, want an --etcd-pki-dir error", args, err)
		}
	}
}
