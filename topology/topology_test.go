package topology

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaultMatchesDeployCopy(t *testing.T) {
	deployed, err := os.ReadFile(filepath.Join("..", "deploy", "topology", "default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(deployed, DefaultYAML()) {
		t.Fatal("deploy/topology/default.yaml and topology/default.yaml differ; keep them identical")
	}
}

func TestDefault(t *testing.T) {
	top := Default()
	if top.Home() != "us-east-1" {
		t.Fatalf("home = %q", top.Home())
	}
	for _, pair := range []struct {
		a, b string
		ms   int
	}{
		{"us-east-1", "eu-west-1", 35},
		{"eu-west-1", "us-east-1", 35},
		{"us-east-1", "ap-northeast-1", 75},
		{"us-east-1", "sa-east-1", 60},
		{"ap-southeast-2", "us-east-1", 100},
	} {
		if got := top.Latency(pair.a, pair.b); got != time.Duration(pair.ms)*time.Millisecond {
			t.Errorf("Latency(%s,%s) = %v, want %dms", pair.a, pair.b, got, pair.ms)
		}
	}
	for _, a := range top.Regions() {
		for _, b := range top.Regions() {
			if top.Latency(a, b) != top.Latency(b, a) {
				t.Errorf("asymmetric %s %s", a, b)
			}
		}
	}
	if r, ok := top.RegionOfPoP("NRT"); !ok || r != "ap-northeast-1" {
		t.Errorf("RegionOfPoP(NRT) = %q %v", r, ok)
	}
	if _, ok := top.RegionOfPoP("XXX"); ok {
		t.Error("unknown PoP resolved")
	}
	for _, name := range []string{"default", "realistic", "instant"} {
		if _, err := top.Profile(name); err != nil {
			t.Errorf("Profile(%s): %v", name, err)
		}
	}
	if _, err := top.Profile("nope"); !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("Profile(nope) err = %v", err)
	}
	// The default lab converges in about a second.
	p, _ := top.Profile("default")
	for _, r := range top.Regions() {
		if d := p.Base(r, top.Home(), top); d > time.Second {
			t.Errorf("default profile: %s base delay %v > 1s", r, d)
		}
	}
	// The realistic profile takes minutes for the last wave.
	p, _ = top.Profile("realistic")
	if d := p.Base("ap-southeast-2", top.Home(), top); d < 2*time.Minute {
		t.Errorf("realistic: ap-southeast-2 delay %v, want minutes", d)
	}
}

func TestNearest(t *testing.T) {
	top := Default()
	got := top.Nearest("us-east-1", []string{"ap-southeast-2", "eu-west-1", "bogus", "us-east-1", "sa-east-1"})
	want := []string{"us-east-1", "eu-west-1", "sa-east-1", "ap-southeast-2", "bogus"}
	if !slices.Equal(got, want) {
		t.Fatalf("Nearest = %v, want %v", got, want)
	}
	// Ties by name.
	tie, err := Parse([]byte(`home: a
regions: [{name: a}, {name: c}, {name: b}]
latency: {a: {c: 10, b: 10}, b: {c: 1}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := tie.Nearest("a", []string{"c", "b", "a"}); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("ties: %v", got)
	}
}

func TestDelay(t *testing.T) {
	top, err := Parse([]byte(`home: h
regions: [{name: h, pops: [H1]}, {name: far, pops: [F1]}, {name: mid}]
latency: {h: {far: 100, mid: 50}, far: {mid: 60}}
profiles:
  p: {scale: 2, jitter: 10ms, stages: [{after: 0s, regions: [h]}, {after: 1m, regions: [mid]}, {after: 2m, regions: [far]}]}
  flat: {scale: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := top.Profile("p")
	rnd := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		region   string
		min, max time.Duration
	}{
		{"h", 0, 10 * time.Millisecond},
		{"mid", time.Minute + 100*time.Millisecond, time.Minute + 110*time.Millisecond},
		{"far", 2*time.Minute + 200*time.Millisecond, 2*time.Minute + 210*time.Millisecond},
	}
	for _, tc := range tests {
		for range 100 {
			d := p.Delay(tc.region, top.Home(), top, rnd)
			if d < tc.min || d >= tc.max {
				t.Fatalf("Delay(%s) = %v, want [%v,%v)", tc.region, d, tc.min, tc.max)
			}
		}
	}
	flat, _ := top.Profile("flat")
	if d := flat.Delay("far", "h", top, nil); d != 100*time.Millisecond {
		t.Fatalf("flat delay = %v", d)
	}
	inst, _ := top.Profile("instant")
	if d := inst.Delay("far", "h", top, rnd); d != 0 {
		t.Fatalf("instant delay = %v", d)
	}
}

func TestParseErrors(t *testing.T) {
	base := "regions: [{name: a, pops: [A]}, {name: b, pops: [B]}]\n"
	tests := []struct {
		name, doc, want string
	}{
		{"empty", "", "no regions"},
		{"unknown field", "home: a\nbogus: 1\n" + base + "latency: {a: {b: 1}}\n", "unknown field"},
		{"home not region", "home: z\n" + base + "latency: {a: {b: 1}}\n", `home "z"`},
		{"unknown region row", "home: a\n" + base + "latency: {a: {b: 1}, x: {a: 1}}\n", `unknown region "x"`},
		{"unknown region col", "home: a\n" + base + "latency: {a: {zz: 1}}\n", `unknown region "zz"`},
		{"negative", "home: a\n" + base + "latency: {a: {b: -1}}\n", "out of range"},
		{"asymmetric", "home: a\n" + base + "latency: {a: {b: 1}, b: {a: 2}}\n", "symmetric"},
		{"missing", "home: a\n" + base + "latency: {}\n", "missing"},
		{"duplicate region", "home: a\nregions: [{name: a}, {name: a}]\n", "duplicate region"},
		{"duplicate pop", "home: a\nregions: [{name: a, pops: [X]}, {name: b, pops: [X]}]\nlatency: {a: {b: 1}}\n", "PoP"},
		{"bad duration", "home: a\n" + base + "latency: {a: {b: 1}}\nprofiles: {p: {scale: 1, jitter: soon}}\n", "duration"},
		{"negative scale", "home: a\n" + base + "latency: {a: {b: 1}}\nprofiles: {p: {scale: -1}}\n", "scale"},
		{"stage unknown region", "home: a\n" + base + "latency: {a: {b: 1}}\nprofiles: {p: {scale: 1, stages: [{after: 1s, regions: [q]}]}}\n", `unknown region "q"`},
		{"stages decrease", "home: a\n" + base + "latency: {a: {b: 1}}\nprofiles: {p: {scale: 1, stages: [{after: 2s, regions: [a]}, {after: 1s, regions: [b]}]}}\n", "decrease"},
		{"not yaml", "home: [", "invalid topology"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.yaml")
	if err := os.WriteFile(path, DefaultYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	top, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Regions()) != len(Default().Regions()) {
		t.Fatal("regions differ")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("missing file loaded")
	}
}

func TestViewerLocationsRelativeToTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "topo.yaml")
	data := []byte("home: us-east-1\nregions: [{name: us-east-1, pops: [IAD]}]\nviewerLocations: viewers.yaml\n")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	topo, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := topo.ViewerLocations(), filepath.Join(dir, "viewers.yaml"); got != want {
		t.Errorf("ViewerLocations() = %q, want %q", got, want)
	}
	if Default().ViewerLocations() != "" {
		t.Error("the default topology names a viewer location file")
	}
}
