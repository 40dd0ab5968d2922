package distribution_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/distribution"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

const stagingFile = `
id: demo-staging
staging: true
origins:
  - {id: web, url: "http://127.0.0.1:9001"}
behaviors:
  - {path: default, origin: web}
`

const primaryWeighted = base + `  - {path: default, origin: web}
continuousDeployment:
  stagingDistributionId: demo-staging
  enabled: true
  weight:
    weight: 0.1
    sessionStickiness: {idleTTL: 5m, maximumTTL: 1h}
`

func TestContinuousDeploymentParsesAndRoundTrips(t *testing.T) {
	for _, in := range []string{stagingFile, primaryWeighted, base + `  - {path: default, origin: web}
continuousDeployment: {stagingDistributionId: demo-staging, enabled: true, header: {header: aws-cf-cd-test, value: "1"}}
`} {
		d, err := distribution.Parse([]byte(in))
		if err != nil {
			t.Fatalf("Parse: %v\n%s", err, in)
		}
		out, err := distribution.ToFile(d)
		if err != nil {
			t.Fatal(err)
		}
		back, err := distribution.Parse(out)
		if err != nil || !proto.Equal(back, d) {
			t.Fatalf("round trip: %v\n%s", err, out)
		}
	}
	d, _ := distribution.Parse([]byte(primaryWeighted))
	w := d.GetContinuousDeployment().GetWeight()
	if w.GetWeight() != 0.1 || w.GetSessionStickiness().GetIdleTtl().AsDuration() != 5*time.Minute {
		t.Errorf("weight policy = %v", w)
	}
}

func TestContinuousDeploymentErrors(t *testing.T) {
	def := "  - {path: default, origin: web}\n"
	cd := func(s string) string {
		return base + def + "continuousDeployment: {stagingDistributionId: demo-staging, enabled: true, " + s + "}\n"
	}
	for _, tc := range []struct{ name, in, want string }{
		{"weight over 15%", cd("weight: {weight: 0.2}"), "continuousDeployment.weight.weight: 0.2 is not in (0, 0.15]"},
		{"weight zero", cd("weight: {weight: 0}"), "continuousDeployment.weight.weight: 0 is not in (0, 0.15]"},
		{"idle TTL too short", cd("weight: {weight: 0.1, sessionStickiness: {idleTTL: 1m, maximumTTL: 10m}}"), "sessionStickiness.idleTTL: 1m is not between 300s and 3600s"},
		{"idle longer than maximum", cd("weight: {weight: 0.1, sessionStickiness: {idleTTL: 30m, maximumTTL: 10m}}"), "sessionStickiness.idleTTL: 30m is longer than maximumTTL 10m"},
		{"header without the prefix", cd("header: {header: x-staging, value: '1'}"), `continuousDeployment.header.header: "x-staging" must start with "aws-cf-cd-"`},
		{"header prefix only", cd("header: {header: aws-cf-cd-, value: '1'}"), `must start with "aws-cf-cd-" and name a header after it`},
		{"header without value", cd("header: {header: aws-cf-cd-x}"), "continuousDeployment.header.value: required"},
		{"weight and header", cd("weight: {weight: 0.1}, header: {header: aws-cf-cd-x, value: '1'}"), "give weight or header, not both"},
		{"neither", cd("comment: x"), `unknown field "comment"`},
		{"no traffic config", base + def + "continuousDeployment: {stagingDistributionId: demo-staging}\n", "continuousDeployment: give weight (a share of requests) or header"},
		{"no staging id", base + def + "continuousDeployment: {weight: {weight: 0.1}}\n", "continuousDeployment.stagingDistributionId: required"},
		{"itself", base + def + "continuousDeployment: {stagingDistributionId: demo, weight: {weight: 0.1}}\n", `continuousDeployment.stagingDistributionId: "demo" is this distribution`},
		{"staging with domains", "id: s\nstaging: true\ndomains: [a.test]\norigins: [{id: web, url: 'http://127.0.0.1:1'}]\nbehaviors: [{path: default, origin: web}]\n", "domains: a staging distribution has no domains"},
		{"staging with a policy", stagingFile + "continuousDeployment: {stagingDistributionId: x, weight: {weight: 0.1}}\n", "a staging distribution cannot have a continuous deployment policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := distribution.Parse([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse: %v\nwant an error with %q", err, tc.want)
			}
		})
	}
}

func TestValidateContinuousDeploymentLinks(t *testing.T) {
	primary, err := distribution.Parse([]byte(primaryWeighted))
	if err != nil {
		t.Fatal(err)
	}
	staging, _ := distribution.Parse([]byte(stagingFile))
	plain, _ := distribution.Parse([]byte(base + "  - {path: default, origin: web}\n"))
	none := func(string) []string { return nil }
	for _, tc := range []struct {
		name      string
		lookup    map[string]*edgelabv1.Distribution
		primaries func(string) []string
		want      string
	}{
		{"linked", map[string]*edgelabv1.Distribution{"demo-staging": staging}, none, ""},
		{"missing staging", nil, none, `no distribution "demo-staging"`},
		{"not a staging distribution", map[string]*edgelabv1.Distribution{"demo-staging": plain}, none, "is not a staging distribution"},
		{"used by another primary", map[string]*edgelabv1.Distribution{"demo-staging": staging}, func(string) []string { return []string{"other"} }, `already linked to "other"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := distribution.ValidateContinuousDeployment(primary, func(id string) *edgelabv1.Distribution { return tc.lookup[id] }, tc.primaries)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestPromoteTakesStagingConfigAndKeepsIdentity(t *testing.T) {
	primary, _ := distribution.Parse([]byte(primaryWeighted))
	staging, _ := distribution.Parse([]byte(stagingFile))
	staging.Origins[0].Url = "http://127.0.0.1:9555"
	got, err := distribution.Promote(primary, staging)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetId() != "demo" || got.GetDomains()[0] != "demo.edgelab.test" || got.GetStaging() {
		t.Errorf("identity not kept: id %s domains %v staging %v", got.GetId(), got.GetDomains(), got.GetStaging())
	}
	if got.GetOrigins()[0].GetUrl() != "http://127.0.0.1:9555" {
		t.Errorf("origin = %s, want staging's", got.GetOrigins()[0].GetUrl())
	}
	if cd := got.GetContinuousDeployment(); cd.GetEnabled() || cd.GetStagingDistributionId() != "demo-staging" {
		t.Errorf("policy after promote = %v, want kept and disabled", cd)
	}
	if err := distribution.Validate(got); err != nil {
		t.Errorf("promoted distribution invalid: %v", err)
	}
	if _, err := distribution.Promote(staging, primary); err == nil {
		t.Error("promoted onto a distribution not linked to it")
	}
}
