package distribution

import edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"

// StateName is CloudFront's name of a deployment state as the console and
// the CLI show it: Deployed, InProgress, Failed, or Unknown.
func StateName(s edgelabv1.DeploymentState) string {
	switch s {
	case edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED:
		return "Deployed"
	case edgelabv1.DeploymentState_DEPLOYMENT_STATE_IN_PROGRESS:
		return "InProgress"
	case edgelabv1.DeploymentState_DEPLOYMENT_STATE_FAILED:
		return "Failed"
	}
	return "Unknown"
}
