package controlplane_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/edgelab/edgelab/controlplane"
	"github.com/edgelab/edgelab/distribution"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// TestContinuousDeploymentLinks: a primary's policy must name a stored
// staging distribution; a linked staging distribution can be neither
// deleted nor turned into a primary; unlinking frees it.
func TestContinuousDeploymentLinks(t *testing.T) {
	env := newEnv(t)
	_, c := env.server(controlplane.Config{})
	ctx := ctxT(t)
	apply := func(y string) error {
		t.Helper()
		d, err := distribution.Parse([]byte(y))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ApplyDistribution(ctx, &edgelabv1.ApplyDistributionRequest{Distribution: d})
		return err
	}
	const origins = "origins: [{id: web, url: \"http://127.0.0.1:9\"}]\nbehaviors: [{path: default, origin: web}]\n"
	primary := "id: prod\ndomains: [prod.test]\n" + origins + "continuousDeployment: {stagingDistributionId: stage, enabled: true, weight: {weight: 0.05}}\n"
	wantCode := func(err error, code codes.Code, msg string) {
		t.Helper()
		if status.Code(err) != code || !strings.Contains(err.Error(), msg) {
			t.Fatalf("got %v, want %s with %q", err, code, msg)
		}
	}
	wantCode(apply(primary), codes.InvalidArgument, `no distribution "stage"`)
	if err := apply("id: stage\nstaging: true\n" + origins); err != nil {
		t.Fatal(err)
	}
	if err := apply(primary); err != nil {
		t.Fatalf("primary with its staging distribution stored: %v", err)
	}
	wantCode(apply("id: prod2\ndomains: [prod2.test]\n"+origins+"continuousDeployment: {stagingDistributionId: stage, weight: {weight: 0.05}}\n"),
		codes.InvalidArgument, `already linked to "prod"`)
	wantCode(apply("id: stage\ndomains: [stage.test]\n"+origins), codes.InvalidArgument, "is the staging distribution of prod")
	_, err := c.DeleteDistribution(ctx, &edgelabv1.DeleteDistributionRequest{Id: "stage"})
	wantCode(err, codes.FailedPrecondition, "is the staging distribution of prod")
	if err := apply("id: prod\ndomains: [prod.test]\n" + origins); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteDistribution(ctx, &edgelabv1.DeleteDistributionRequest{Id: "stage"}); err != nil {
		t.Fatalf("deleting an unlinked staging distribution: %v", err)
	}
}
