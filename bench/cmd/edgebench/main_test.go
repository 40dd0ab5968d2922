package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "usage"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"node without distribution", []string{"node"}, "-distribution is required"},
		{"node bad flag", []string{"node", "-nope"}, "not defined"},
		{"run without binaries", []string{"run", "-bench-bin", "x"}, "binary not set"},
		{"run bad scenario", []string{"run", "-origin-bin", "o", "-edgenode-bin", "e", "-scenarios", "q"}, "unknown scenario"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(tc.args, &out, &errb)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func TestNodeUsageHidesInProcess(t *testing.T) {
	var out, errb bytes.Buffer
	_ = run([]string{"node", "-h"}, &out, &errb)
	if strings.Contains(errb.String(), "inprocess") || !strings.Contains(errb.String(), "-distribution") {
		t.Fatalf("usage:\n%s", errb.String())
	}
}
