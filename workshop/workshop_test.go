package workshop

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/edgelab/edgelab/sandbox"
)

func TestMain(m *testing.M) {
	sandbox.MaybeRunWorker() // the labs' sandboxes re-execute this test binary
	os.Exit(m.Run())
}

// repoRoot is the module root: the workshop runs every command from there.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	return root
}

func workshopDir(t *testing.T) string { return filepath.Join(repoRoot(t), "docs", "workshop") }

// TestWorkshop runs every command of every lab page in order against one
// all-in-one lab (started by the first page's `edgelab up`), checking each
// "text expect" block. Blocks marked pending are reported, not run. The
// realistic profile runs compressed 10x (see scaledRealistic).
func TestWorkshop(t *testing.T) {
	if testing.Short() {
		t.Skip("the workshop starts whole labs; skipped with -short")
	}
	root := repoRoot(t)
	pages, err := labPages(filepath.Join(root, "docs", "workshop"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := readBlocks(pages)
	if err != nil {
		t.Fatal(err)
	}
	realistic, err := scaledRealistic(10)
	if err != nil {
		t.Fatal(err)
	}
	r := &runner{
		t:         t,
		root:      root,
		work:      t.TempDir(),
		bin:       t.TempDir(),
		vars:      map[string]string{"HOME": os.Getenv("HOME")},
		realistic: realistic,
	}
	t.Cleanup(r.closeLab)
	t.Chdir(root) // relative paths in commands (edgectl --source, -f) are the repository's
	for _, p := range pages {
		name := strings.TrimSuffix(filepath.Base(p), ".md")
		ok := t.Run(name, func(t *testing.T) {
			before := len(r.pending)
			for _, b := range blocks[p] {
				r.runBlock(t, b)
			}
			if n := len(r.pending) - before; n > 0 {
				t.Skipf("%d block(s) pending (not run, not passed):\n  %s", n, strings.Join(r.pending[before:], "\n  "))
			}
		})
		if !ok {
			t.Fatalf("%s failed; later labs depend on it", name)
		}
	}
}

// requiredSections are the headings every lab page has.
var requiredSections = []string{"## Goal", "## Commands", "## What you should see", "## Why"}

// TestLabPagesAreComplete checks the shape of the workshop: every lab page
// has its sections and at least one executable block whose commands parse,
// every expect block follows an sh block, and the README and TRAINER link
// every page.
func TestLabPagesAreComplete(t *testing.T) {
	dir := workshopDir(t)
	pages, err := labPages(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 9 {
		t.Errorf("%d lab pages, want the 9 labs of the workshop", len(pages))
	}
	blocks, err := readBlocks(pages)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	trainer, err := os.ReadFile(filepath.Join(dir, "TRAINER.md"))
	if err != nil {
		t.Fatal(err)
	}
	// Every variable a page may use, so that parsing checks references.
	lookup := func(name string) (string, bool) {
		switch name {
		case "EDGELAB_ENDPOINT", "GATEWAY", "WEB", "WEB_B", "DASHBOARD", "TOKEN", "ADMIN_TOKEN", "WORKDIR", "HOME", "PATH", "PWD":
			return "x", true
		}
		return "", false
	}
	for _, p := range pages {
		base := filepath.Base(p)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range requiredSections {
			if !strings.Contains(string(data), "\n"+s) {
				t.Errorf("%s: missing section %q", base, s)
			}
		}
		if !strings.Contains(string(readme), "("+base+")") {
			t.Errorf("README.md does not link %s", base)
		}
		if !strings.Contains(string(trainer), base) {
			t.Errorf("TRAINER.md does not mention %s", base)
		}
		if len(blocks[p]) == 0 {
			t.Errorf("%s: no `sh workshop` block", base)
		}
		for _, b := range blocks[p] {
			if b.pend != "" {
				continue
			}
			if _, err := parseCommands(b, func(n string) (string, bool) {
				if v, ok := lookup(n); ok {
					return v, ok
				}
				return "x", definedEarlier(blocks, pages, b, n)
			}); err != nil {
				t.Errorf("%s: %v", b.where(), err)
			}
		}
	}
}

// definedEarlier reports whether some block up to b exports name.
func definedEarlier(blocks map[string][]*block, pages []string, b *block, name string) bool {
	re := regexp.MustCompile(`(?m)^\s*export ` + regexp.QuoteMeta(name) + `=`)
	for _, p := range pages {
		for _, x := range blocks[p] {
			if re.MatchString(x.body) {
				return true
			}
			if x == b {
				return false
			}
		}
	}
	return false
}

// TestWorkshopFunctionsValidate checks that every function under
// docs/workshop/functions passes the control plane's static validation.
func TestWorkshopFunctionsValidate(t *testing.T) {
	dir := filepath.Join(workshopDir(t), "functions")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		files := map[string][]byte{}
		gos, err := filepath.Glob(filepath.Join(dir, e.Name(), "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gos {
			if strings.HasSuffix(g, "_test.go") {
				continue
			}
			data, err := os.ReadFile(g)
			if err != nil {
				t.Fatal(err)
			}
			files[filepath.Base(g)] = data
		}
		if _, err := sandbox.ValidateSource(files); err != nil {
			t.Errorf("function %s: %v", e.Name(), err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no workshop functions found")
	}
}
