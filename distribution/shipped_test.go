package distribution_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/edgelab/edgelab/distribution"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// placeholder is what scripts fill in before applying a shipped file:
// lab.sh's AUTH_V, HEADERS_V, HELLO_V (function versions) and the e2e
// smoke test's FUNCTION (a function name).
var placeholder = regexp.MustCompile(`\b([A-Z]+_V|FUNCTION)\b`)

// parseShipped parses a distribution file of the repository, its
// placeholders filled in (versions 1, function name "fn").
func parseShipped(t *testing.T, file string) *edgelabv1.Distribution {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	data = placeholder.ReplaceAllFunc(data, func(m []byte) []byte {
		if string(m) == "FUNCTION" {
			return []byte("fn")
		}
		return []byte("1")
	})
	d, err := distribution.Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return d
}

func TestShippedDistributionFilesParse(t *testing.T) {
	files, err := filepath.Glob("../examples/distributions/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example distributions: %v", err)
	}
	files = append(files, "../deploy/docker/demo.yaml", "../e2e/testdata/distribution.yaml")
	for _, f := range files {
		if d := parseShipped(t, f); d.GetId() == "" || len(d.GetBehaviors()) == 0 {
			t.Errorf("%s: parsed to %v", f, d)
		}
	}
}

// TestComposeDemoServesAssetsFromS3 checks the compose lab's sample
// distribution serves /assets/* from the S3-mode origin, as the
// all-in-one's sample does (lab.SampleDistribution).
func TestComposeDemoServesAssetsFromS3(t *testing.T) {
	d := parseShipped(t, "../deploy/docker/demo.yaml")
	b := distribution.SelectBehavior(d, "/assets/logo.txt")
	if b.GetPath() != "/assets/*" || b.GetOrigin() != "assets" {
		t.Fatalf("/assets/logo.txt selects behavior %q (origin %q), want /assets/* from assets", b.GetPath(), b.GetOrigin())
	}
	for _, o := range d.GetOrigins() {
		if o.GetId() != "assets" {
			continue
		}
		if s := o.GetS3(); s.GetDomainName() != "origin-assets:9001" || s.GetPath() != "/edgelab-assets" || o.GetUrl() != "http://origin-assets:9001/edgelab-assets" {
			t.Errorf("origin assets = %v, want S3 origin-assets:9001, path /edgelab-assets", o)
		}
		return
	}
	t.Fatal("no origin assets")
}
