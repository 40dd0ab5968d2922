package scenario

import (
	"path/filepath"
	"testing"
)

// TestShippedScenarios parses every scenario under deploy/scenarios.
func TestShippedScenarios(t *testing.T) {
	files, err := filepath.Glob("../../deploy/scenarios/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 6 {
		t.Fatalf("found %d scenario files, want at least 6", len(files))
	}
	for _, f := range files {
		sc, err := ParseFile(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if want := filepath.Base(f); sc.Name+".yaml" != want {
			t.Errorf("%s: name %q does not match the file name", f, sc.Name)
		}
	}
}
