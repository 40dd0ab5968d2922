package edgenode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sandbox workers")
	}
	o := startOrigin(t, "o")
	dir := t.TempDir()
	distFile := filepath.Join(dir, "d.yaml")
	yaml := fmt.Sprintf(`id: files
domains: ["files.test"]
origins:
  - {id: web, url: %q}
behaviors:
  - path: "/gen/*"
    origin: web
    functions:
      viewer-response: {function: hello, version: 2}
  - path: default
    origin: web
`, o.URL())
	if err := os.WriteFile(distFile, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, nil, func(c *Config) { c.Profile = shortProfile() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.LoadFiles(ctx, []string{distFile}, []string{"hello:2=testdata/functions/hello"}); err != nil {
		t.Fatal(err)
	}
	host := map[string]string{"Host": "files.test"}
	if r := do(t, n, "GET", "/gen/x", host, ""); r.status != 200 || r.header.Get("X-Hello") != "world" {
		t.Fatalf("got %d X-Hello=%q", r.status, r.header.Get("X-Hello"))
	}
	if r := do(t, n, "GET", "/static/a.css", host, ""); r.status != 200 || r.header.Get("X-Hello") != "" {
		t.Fatalf("default behavior: %d X-Hello=%q", r.status, r.header.Get("X-Hello"))
	}
	rev := n.Revision()
	if err := n.LoadFiles(ctx, []string{distFile}, []string{"hello:2=testdata/functions/hello"}); err != nil || n.Revision() != rev+1 {
		t.Fatalf("reload: %v, revision %d", err, n.Revision())
	}

	bad := []struct {
		name  string
		dists []string
		fns   []string
		want  string
	}{
		{"missing dist file", []string{filepath.Join(dir, "nope.yaml")}, nil, "reading distribution"},
		{"bad version", []string{distFile}, []string{"hello:x=testdata/functions/hello"}, "bad version"},
		{"empty dir", []string{distFile}, []string{"hello:2=" + dir}, "no .go files"},
		{"function not provided", []string{distFile}, nil, "not in the snapshot"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			err := n.LoadFiles(ctx, tc.dists, tc.fns)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}
