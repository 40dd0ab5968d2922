package ctl_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEdgectlPromote: promote copies the staging distribution onto its
// primary, keeps the primary's domains, disables the policy, and status
// of the primary shows the staging distribution too.
func TestEdgectlPromote(t *testing.T) {
	ep := startCP(t)
	dir := t.TempDir()
	write := func(name, y string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stage := write("stage.yaml", "id: stage\nstaging: true\norigins: [{id: web, url: \"http://127.0.0.1:9555\"}]\nbehaviors: [{path: default, origin: web}]\n")
	prod := write("prod.yaml", "id: prod\ndomains: [prod.test]\norigins: [{id: web, url: \"http://127.0.0.1:9001\"}]\nbehaviors: [{path: default, origin: web}]\n"+
		"continuousDeployment: {stagingDistributionId: stage, enabled: true, header: {header: aws-cf-cd-canary, value: \"1\"}}\n")
	for _, tc := range []struct {
		args      []string
		code      int
		out, errs string
	}{
		{[]string{"distribution", "promote", "prod"}, 1, "", `distribution "prod": not found`},
		{[]string{"distribution", "apply", "-f", stage}, 0, "distribution stage created", ""},
		{[]string{"distribution", "apply", "-f", prod}, 0, "distribution prod created", ""},
		{[]string{"status", "prod"}, 0, "\nstage  ", ""},
		{[]string{"distribution", "promote", "stage"}, 1, "", "has no continuous deployment policy"},
		{[]string{"distribution", "promote", "prod"}, 0, "promoted stage onto prod", ""},
		{[]string{"distribution", "get", "prod", "-o", "yaml"}, 0, "url: http://127.0.0.1:9555", ""},
	} {
		out, errOut, code := run(t, ep, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.errs) {
			t.Fatalf("edgectl %v: code %d\nstdout:\n%s\nstderr:\n%s\nwant code %d, stdout ~ %q, stderr ~ %q", tc.args, code, out, errOut, tc.code, tc.out, tc.errs)
		}
	}
	out, _, _ := run(t, ep, "distribution", "get", "prod", "-o", "yaml")
	if !strings.Contains(out, "prod.test") || strings.Contains(out, "enabled: true") || !strings.Contains(out, "stagingDistributionId: stage") {
		t.Errorf("promoted primary:\n%s\nwant its domain kept and the policy kept, disabled", out)
	}
}
