// Package e2e holds the compose-lab smoke test (build tag e2e): it brings up
// docker-compose.yml (or uses a running lab with EDGELAB_E2E_REUSE=1), deploys
// a function with edgectl through the published control-plane port, applies a
// distribution, waits for Deployed and requests through the gateway from two
// viewer regions.
//
//	go test -tags e2e -count=1 -v ./e2e/     # or: scripts/lab.sh smoke
package e2e
