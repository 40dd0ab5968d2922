package distribution_test

import (
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/distribution"
)

// FuzzParse: any bytes (YAML or JSON) either fail with an error that
// says what is wrong, or give a distribution that ToFile renders as a
// file that parses back to the same distribution, and ToFile of that is
// byte for byte the same (a fixed point). Seeds: the sample distributions
// of testdata/ and testdata/fuzz/FuzzParse/.
func FuzzParse(f *testing.F) {
	samples, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(samples) == 0 {
		f.Fatalf("sample distributions: %v", err)
	}
	for _, name := range samples {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":"x"}`))
	f.Add([]byte("id: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := distribution.Parse(data)
		if err != nil {
			if d != nil || err.Error() == "" {
				t.Fatalf("Parse failed with %v and returned %v", err, d)
			}
			return
		}
		out, err := distribution.ToFile(d)
		if err != nil {
			t.Fatalf("ToFile of a parsed distribution: %v", err)
		}
		d2, err := distribution.Parse(out)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if !proto.Equal(d, d2) {
			t.Fatalf("round trip differs\n%v\n%v", d, d2)
		}
		out2, err := distribution.ToFile(d2)
		if err != nil || string(out) != string(out2) {
			t.Fatalf("ToFile is not a fixed point (%v):\n%s\n%s", err, out, out2)
		}
	})
}
