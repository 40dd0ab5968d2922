package examples

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

//go:embed */*.go distributions/*.yaml
var files embed.FS

// Sources returns the .go files (tests excluded) of the example function in
// directory dir, e.g. "jwt-auth", keyed by base name. The lab publishes them.
func Sources(dir string) (map[string][]byte, error) {
	entries, err := fs.ReadDir(files, dir)
	if err != nil {
		return nil, fmt.Errorf("example %q: %w", dir, err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		data, err := fs.ReadFile(files, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("example %q: %w", dir, err)
		}
		out[name] = data
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("example %q: no .go files", dir)
	}
	return out, nil
}

// Names lists the example function directories.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "distributions" {
			if _, err := Sources(e.Name()); err == nil {
				out = append(out, e.Name())
			}
		}
	}
	return out
}
