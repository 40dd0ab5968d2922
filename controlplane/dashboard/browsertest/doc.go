// Package browsertest drives the dashboard in headless Chromium (chromedp)
// against an all-in-one lab on free ports: it opens every view, publishes a
// new version and watches the rollout chart gain every node, injects a kill
// from the Chaos view and watches the node go down, kills the replica
// serving the page and watches the page move to the other one. Screenshots
// of every view go to build/dashboard/ (EDGELAB_SCREENSHOTS overrides).
//
// Run alone with: go test ./controlplane/dashboard/browsertest/
//
// Without a Chromium binary the test skips and says so, except under CI=true,
// where a missing browser fails it.
package browsertest
