package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestLatencyFlags(t *testing.T) {
	o, err := parseFlags([]string{"--region", "ap-southeast-2", "--pop", "SYD"}, io.Discard)
	if err != nil || o.process.Node.Latency != nil {
		t.Fatalf("default: model %v, err %v; want the model off", o.process.Node.Latency, err)
	}
	o, err = parseFlags([]string{"--region", "ap-southeast-2", "--pop", "SYD", "--latency-model", "0.5", "--fetch-region", "auth.test=eu-west-1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	m := o.process.Node.Latency
	// The built-in topology: ap-southeast-2 <-> us-east-1 (home) is 100ms one way.
	if m.Scale() != 0.5 || m.RoundTrip("ap-southeast-2", "") != 100*time.Millisecond || m.FetchRegion("auth.test") != "eu-west-1" {
		t.Errorf("model scale %v, round trip home %v, auth.test in %q", m.Scale(), m.RoundTrip("ap-southeast-2", ""), m.FetchRegion("auth.test"))
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--latency-model", "fast"}, `--latency-model: `},
		{[]string{"--latency-model", "on", "--fetch-region", "auth.test"}, `--fetch-region: `},
		{[]string{"--latency-model", "on", "--fetch-region", "auth.test=mars"}, `"mars" is not in the topology`},
		{[]string{"--fetch-region", "auth.test=us-east-1"}, `--fetch-region needs --latency-model`},
		{[]string{"--latency-model", "on", "--topology", "/nonexistent/topo.yaml"}, `--topology: `},
	} {
		_, err := parseFlags(bad.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: error %v, want it to contain %q", bad.args, err, bad.want)
		}
	}
}
