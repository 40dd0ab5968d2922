// Package memcgtest is the check shared by tests that need memory cgroups
// (package memcg's own tests apply the same rule internally).
package memcgtest

import (
	"os"
	"testing"

	"github.com/edgelab/edgelab/sandbox/memcg"
)

// EnvRequire names the environment variable that turns "no memory cgroup
// here" from a skip into a failure; scripts/memcg-v2-vm.sh sets it to 1,
// where a skip would hide the cgroup v2 path.
const EnvRequire = "EDGELAB_REQUIRE_CGROUPS"

// Need returns when this process may create memory cgroups (memcg.Auto
// succeeds); otherwise it skips t saying why, or fails it when EnvRequire
// is 1.
func Need(t testing.TB) {
	t.Helper()
	p, err := memcg.Auto()
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%s=1, but no memory cgroup can be created here: %v", EnvRequire, err)
		}
		t.Skipf("no memory cgroup this process may create children in: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}
