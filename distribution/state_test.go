package distribution_test

import (
	"testing"

	"github.com/edgelab/edgelab/distribution"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

func TestStateName(t *testing.T) {
	for s, want := range map[edgelabv1.DeploymentState]string{
		edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED:    "Deployed",
		edgelabv1.DeploymentState_DEPLOYMENT_STATE_IN_PROGRESS: "InProgress",
		edgelabv1.DeploymentState_DEPLOYMENT_STATE_FAILED:      "Failed",
		edgelabv1.DeploymentState_DEPLOYMENT_STATE_UNSPECIFIED: "Unknown",
		edgelabv1.DeploymentState(42):                          "Unknown",
	} {
		if got := distribution.StateName(s); got != want {
			t.Errorf("StateName(%v) = %q, want %q", s, got, want)
		}
	}
}
