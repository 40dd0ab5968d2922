package topology

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDefaultTiers(t *testing.T) {
	top := Default()
	var names []string
	for _, r := range top.RECs() {
		names = append(names, r.Name)
	}
	if want := []string{"us-east-1", "us-west-2", "eu-central-1", "ap-northeast-1"}; !slices.Equal(names, want) {
		t.Fatalf("RECs = %v, want %v", names, want)
	}
	for pop, want := range map[string]string{"IAD": "us-east-1", "JFK": "us-east-1", "GRU": "us-east-1", "DUB": "eu-central-1",
		"FRA": "eu-central-1", "NRT": "ap-northeast-1", "SYD": "ap-northeast-1", "SEA": "us-west-2"} {
		if got, ok := top.RECOfPoP(pop); !ok || got != want {
			t.Errorf("RECOfPoP(%s) = %q %v, want %q", pop, got, ok, want)
		}
	}
	// SYD's own REC first, then by latency from ap-southeast-2: us-west-2 70, us-east-1 100, eu-central-1 125.
	if got, want := top.RECsByPreference("ap-southeast-2"), []string{"ap-northeast-1", "us-west-2", "us-east-1", "eu-central-1"}; !slices.Equal(got, want) {
		t.Errorf("RECsByPreference(ap-southeast-2) = %v, want %v", got, want)
	}
	if _, ok := top.ShieldOf("eu-central-1"); ok {
		t.Error("default topology has a shield")
	}
}

const tierBase = `home: a
regions:
  - {name: a, pops: [A1]}
  - {name: b, pops: [B1], rec: ra}
  - {name: c, pops: [C1]}
latency: {a: {b: 10, c: 20}, b: {c: 15}}
`

func TestTiersShieldChain(t *testing.T) {
	top, err := Parse([]byte(tierBase + `recs:
  - {name: ra, region: a}
  - {name: rc, region: c, shield: a}
`))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := top.ShieldOf("rc"); !ok || s != "ra" {
		t.Errorf("ShieldOf(rc) = %q %v", s, ok)
	}
	if _, ok := top.ShieldOf("ra"); ok {
		t.Error("ra has no shield")
	}
	if r, ok := top.RECOfPoP("B1"); !ok || r != "ra" {
		t.Errorf("RECOfPoP(B1) = %q %v", r, ok)
	}
	if r, ok := top.RECInRegion("c"); !ok || r != "rc" {
		t.Errorf("RECInRegion(c) = %q %v", r, ok)
	}
}

func TestTiersOneTierWithoutRECs(t *testing.T) {
	top, err := Parse([]byte(strings.Replace(tierBase, ", rec: ra", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(top.RECs()) != 0 || len(top.RECsByPreference("a")) != 0 {
		t.Fatalf("RECs = %v", top.RECs())
	}
	if r, ok := top.RECOfPoP("A1"); ok {
		t.Errorf("RECOfPoP(A1) = %q, want none", r)
	}
}

// TestTiersInvalid covers the hostile topology files: each error names
// the field, and Load names the file.
func TestTiersInvalid(t *testing.T) {
	for _, tc := range []struct {
		name, recs, want string
	}{
		{"PoP names an unknown REC", "recs: [{name: rc, region: c}]\n", `regions[1] (b).rec: PoPs B1 name unknown REC "ra"`},
		{"shield region does not exist", "recs: [{name: ra, region: a, shield: mars}]\n", `recs[0] (ra).shield: shield region "mars" does not exist`},
		{"shield region without REC", "recs: [{name: ra, region: a, shield: b}]\n", `recs[0] (ra).shield: shield region "b" has no REC`},
		{"shield cycle", "recs: [{name: ra, region: a, shield: c}, {name: rc, region: c, shield: a}]\n", `recs[0] (ra).shield: shields form a cycle: ra -> rc -> ra`},
		{"REC region does not exist", "recs: [{name: ra, region: a}, {name: rz, region: z}]\n", `recs[1] (rz).region: region "z" does not exist`},
		{"two RECs in a region", "recs: [{name: ra, region: a}, {name: ra2, region: a}]\n", `recs[1] (ra2).region: region "a" already has REC "ra"`},
		{"duplicate REC", "recs: [{name: ra, region: a}, {name: ra, region: c}]\n", `recs[1] (ra).name: duplicate REC "ra"`},
		{"empty REC name", "recs: [{name: ra, region: a}, {region: c}]\n", `recs[1].name: empty`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "topo.yaml")
			if err := os.WriteFile(path, []byte(tierBase+tc.recs), 0o644); err != nil {
				t.Fatal(err)
			}
			top, err := Load(path)
			if err == nil {
				t.Fatalf("Load succeeded: %v", top.RECs())
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.HasPrefix(msg, path+": ") {
				t.Errorf("error = %q, want it to start with the file and contain %q", msg, tc.want)
			}
		})
	}
}
