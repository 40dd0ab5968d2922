package main

import (
	"io"
	"strings"
	"testing"

	"github.com/edgelab/edgelab/edgenode"
)

func TestTierFlags(t *testing.T) {
	o, err := parseFlags([]string{"--pop", "GRU", "--region", "sa-east-1", "--rec", "us-east-1=http://rec-us-east-1:8080/"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	tc := o.process.Node.Tier
	if tc.Role != edgenode.RolePoP || tc.Topology == nil || tc.RECs["us-east-1"] != "http://rec-us-east-1:8080" {
		t.Errorf("tier config = %+v", tc)
	}
	if o, err = parseFlags([]string{"--role", "rec", "--pop", "us-east-1"}, io.Discard); err != nil || o.process.Node.Tier.Role != edgenode.RoleREC {
		t.Errorf("--role rec: %+v %v", o.process.Node.Tier, err)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--role", "edge"}, `--role "edge"`},
		{[]string{"--rec", "us-east-1"}, `--rec "us-east-1": want NAME=URL`},
		{[]string{"--rec", "mars=http://x:1"}, `"mars" is not a REC of the topology`},
		{[]string{"--rec", "us-east-1=ftp://x"}, `is not an http(s) URL`},
		{[]string{"--topology", "/nonexistent/topo.yaml"}, `--topology: `},
	} {
		_, err := parseFlags(bad.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: error %v, want it to contain %q", bad.args, err, bad.want)
		}
	}
}
