package topology

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// FuzzParse: any bytes either fail with an error that wraps ErrInvalid,
// or give a topology that keeps its own rules: the home is a region,
// every PoP maps back to its region, latencies are symmetric and within
// [0, maxLatencyMS], Nearest is a latency-ordered permutation of its
// candidates, and every profile's delay lies in [Base, Base+Jitter).
// Seeds: the default topology here and testdata/fuzz/FuzzParse/.
func FuzzParse(f *testing.F) {
	f.Add(DefaultYAML())
	f.Add([]byte("home: a\nregions: [{name: a}]\n"))
	f.Add([]byte("home: a\nregions: [{name: a}, {name: b}]\nlatency: {a: {b: 1e308}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		top, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		regions := top.Regions()
		if !slices.Contains(regions, top.Home()) {
			t.Fatalf("home %q is not among the regions %q", top.Home(), regions)
		}
		for _, a := range regions {
			checkRegion(t, top, a)
		}
		checkNearest(t, top, top.Home(), append(regions, "not-a-region"))
		for _, name := range top.ProfileNames() {
			p, err := top.Profile(name)
			if err != nil {
				t.Fatal(err)
			}
			checkDelays(t, top, p)
		}
	})
}

// checkRegion checks one region's PoPs and latencies.
func checkRegion(t *testing.T, top *Topology, a string) {
	t.Helper()
	for _, p := range top.PoPs(a) {
		if r, ok := top.RegionOfPoP(p); !ok || r != a {
			t.Fatalf("PoP %q of %q maps to %q, %v", p, a, r, ok)
		}
	}
	for _, b := range top.Regions() {
		l := top.Latency(a, b)
		if l != top.Latency(b, a) || l < 0 || l > maxLatencyMS*time.Millisecond {
			t.Fatalf("latency %s<->%s: %v / %v", a, b, l, top.Latency(b, a))
		}
	}
}

// checkNearest checks that Nearest orders candidates without losing any.
func checkNearest(t *testing.T, top *Topology, from string, candidates []string) {
	t.Helper()
	got := top.Nearest(from, candidates)
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(candidates))) {
		t.Fatalf("Nearest(%q, %q) = %q: not a permutation", from, candidates, got)
	}
	for i := 1; i < len(got); i++ {
		if top.HasRegion(got[i-1]) && top.HasRegion(got[i]) && top.Latency(from, got[i-1]) > top.Latency(from, got[i]) {
			t.Fatalf("Nearest(%q) = %q: %s before %s", from, got, got[i-1], got[i])
		}
		if !top.HasRegion(got[i-1]) && top.HasRegion(got[i]) {
			t.Fatalf("Nearest(%q) = %q: unknown %s before region %s", from, got, got[i-1], got[i])
		}
	}
}

// checkDelays checks a profile's delay for every region.
func checkDelays(t *testing.T, top *Topology, p Profile) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(1, 1))
	for _, r := range top.Regions() {
		base := p.Base(r, top.Home(), top)
		d := p.Delay(r, top.Home(), top, rnd)
		if base < 0 || d < base || (p.Jitter > 0 && d >= base+time.Duration(p.Jitter)) || (p.Jitter == 0 && d != base) {
			t.Fatalf("region %s: delay %v, base %v, jitter %v", r, d, base, time.Duration(p.Jitter))
		}
	}
}
