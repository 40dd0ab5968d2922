// Package e2e holds the compose-lab tests (build tag e2e). TestMain brings
// docker-compose.yml up with scripts/lab.sh (or uses a running lab with
// EDGELAB_E2E_REUSE=1, reading its ports from EDGELAB_*_PORT) and down again
// (unless EDGELAB_E2E_KEEP=1).
//
// TestComposeLabSmoke deploys a function with edgectl through the published
// control-plane port, applies a distribution, waits for Deployed and requests
// through the gateway from two viewer regions (X-Edgelab-Node, X-Cache,
// X-Edgelab-Functions). TestComposeLabDemo checks the tour's claims about the
// sample distribution lab.sh deploys, and TestComposeLabS3Origin its
// /assets/* from the S3-mode origin (status, ETag, x-amz-meta-bucket, a hit
// on the second request).
//
//	go test -tags e2e -count=1 -v ./e2e/     # or, against a running lab: scripts/lab.sh smoke
package e2e
