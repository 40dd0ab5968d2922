package topology

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default topology file (a copy of
// deploy/topology/default.yaml).
func DefaultYAML() []byte { return slices.Clone(defaultYAML) }

// Default returns the embedded default topology. It panics only if the
// embedded file is invalid, which a test rules out.
func Default() *Topology {
	t, err := Parse(defaultYAML)
	if err != nil {
		panic(fmt.Sprintf("topology: embedded default.yaml: %v", err))
	}
	return t
}

// ErrInvalid is wrapped by every Parse error.
var ErrInvalid = errors.New("invalid topology")

// ErrUnknownProfile is returned by Profile for a name the file does not define.
var ErrUnknownProfile = errors.New("unknown delay profile")

// Duration is a time.Duration that reads from YAML/JSON as "20ms"/"2m" or as
// a number of nanoseconds.
type Duration time.Duration

// UnmarshalJSON accepts a Go duration string or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration %s: want a string like \"20ms\" or nanoseconds", string(b))
	}
	*d = Duration(n)
	return nil
}

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Region is one region and its PoPs.
type Region struct {
	Name string   `json:"name"`
	PoPs []string `json:"pops"`
	// REC names the regional edge cache the region's PoPs miss to. Empty:
	// the REC located in the region, if there is one, else none (the
	// PoPs go to the origin themselves).
	REC string `json:"rec,omitempty"`
}

// Stage is one wave of a staged rollout: the named regions receive updates
// After this extra delay.
type Stage struct {
	After   Duration `json:"after"`
	Regions []string `json:"regions"`
}

// Profile is one delay profile. The zero Profile means no delay.
type Profile struct {
	// Scale multiplies the one-way latency from the home region; 0 disables it.
	Scale float64 `json:"scale"`
	// Jitter is the upper bound of a uniform random extra delay; 0 means none.
	Jitter Duration `json:"jitter,omitempty"`
	// Stages are optional rollout waves; regions not named get the last stage's delay.
	Stages []Stage `json:"stages,omitempty"`
}

// file is the YAML document.
type file struct {
	Home     string                        `json:"home"`
	Regions  []Region                      `json:"regions"`
	Latency  map[string]map[string]float64 `json:"latency"`
	Profiles map[string]Profile            `json:"profiles"`
	RECs     []REC                         `json:"recs,omitempty"`
	// ViewerLocations names a viewer location file (package viewerinfo).
	ViewerLocations string `json:"viewerLocations,omitempty"`
}

// Topology is a parsed, validated topology file. Immutable; safe for concurrent use.
type Topology struct {
	home     string
	regions  []Region
	index    map[string]int    // region name -> position in regions
	popIndex map[string]string // PoP -> region
	latency  [][]time.Duration // [from][to], symmetric
	profiles map[string]Profile
	tiers    tiers
	// viewerLocations is the viewer location file ("": none).
	viewerLocations string
}

// Load reads and parses a topology file.
func Load(path string) (*Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading topology: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if t.viewerLocations != "" && !filepath.IsAbs(t.viewerLocations) {
		t.viewerLocations = filepath.Join(filepath.Dir(path), t.viewerLocations)
	}
	return t, nil
}

// ViewerLocations is the viewer location file the topology names (IP
// ranges to countries, read by viewerinfo.Load), relative to the topology
// file's directory when Load read it; "" when it names none.
func (t *Topology) ViewerLocations() string { return t.viewerLocations }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// maxDelay bounds jitter and stage delays so sums cannot overflow.
const maxDelay = 24 * time.Hour

// maxLatency bounds one matrix entry (one minute) so scaled delays cannot overflow.
const maxLatencyMS = 60_000

// Parse parses and validates a topology file. Unknown fields, unknown regions
// in the matrix or the profiles, duplicate regions or PoPs, negative or
// asymmetric latencies and a home that is not a region are errors; an entry
// given in only one direction is filled symmetrically, and the same-region
// entry defaults to 0.
func Parse(data []byte) (*Topology, error) {
	var f file
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, invalid("%v", err)
	}
	if len(f.Regions) == 0 {
		return nil, invalid("no regions")
	}
	t := &Topology{
		viewerLocations: f.ViewerLocations,
		home:            f.Home,
		index:           make(map[string]int, len(f.Regions)),
		popIndex:        make(map[string]string),
		profiles:        make(map[string]Profile, len(f.Profiles)),
	}
	for i, r := range f.Regions {
		if r.Name == "" {
			return nil, invalid("region %d has no name", i)
		}
		if _, dup := t.index[r.Name]; dup {
			return nil, invalid("duplicate region %q", r.Name)
		}
		t.index[r.Name] = i
		for _, p := range r.PoPs {
			if p == "" {
				return nil, invalid("region %q has an empty PoP name", r.Name)
			}
			if other, dup := t.popIndex[p]; dup {
				return nil, invalid("PoP %q is in both %q and %q", p, other, r.Name)
			}
			t.popIndex[p] = r.Name
		}
		t.regions = append(t.regions, Region{Name: r.Name, PoPs: slices.Clone(r.PoPs), REC: r.REC})
	}
	if _, ok := t.index[f.Home]; !ok {
		return nil, invalid("home %q is not a region", f.Home)
	}
	n := len(t.regions)
	ms := make([][]float64, n)
	set := make([][]bool, n)
	for i := range ms {
		ms[i] = make([]float64, n)
		set[i] = make([]bool, n)
	}
	// Deterministic order so the first error reported is stable.
	froms := make([]string, 0, len(f.Latency))
	for from := range f.Latency {
		froms = append(froms, from)
	}
	sort.Strings(froms)
	for _, from := range froms {
		i, ok := t.index[from]
		if !ok {
			return nil, invalid("latency: unknown region %q", from)
		}
		row := f.Latency[from]
		tos := make([]string, 0, len(row))
		for to := range row {
			tos = append(tos, to)
		}
		sort.Strings(tos)
		for _, to := range tos {
			j, ok := t.index[to]
			if !ok {
				return nil, invalid("latency: %s: unknown region %q", from, to)
			}
			v := row[to]
			if math.IsNaN(v) || v < 0 || v > maxLatencyMS {
				return nil, invalid("latency %s->%s: %v ms out of range [0, %d]", from, to, v, maxLatencyMS)
			}
			if set[j][i] && ms[j][i] != v {
				return nil, invalid("latency %s->%s is %v ms but %s->%s is %v ms: the matrix must be symmetric", from, to, v, to, from, ms[j][i])
			}
			ms[i][j], ms[j][i] = v, v
			set[i][j], set[j][i] = true, true
		}
	}
	t.latency = make([][]time.Duration, n)
	for i := range n {
		t.latency[i] = make([]time.Duration, n)
		for j := range n {
			if !set[i][j] && i != j {
				return nil, invalid("latency %s->%s missing", t.regions[i].Name, t.regions[j].Name)
			}
			t.latency[i][j] = time.Duration(ms[i][j] * float64(time.Millisecond))
		}
	}
	for name, p := range f.Profiles {
		if math.IsNaN(p.Scale) || p.Scale < 0 || p.Scale > 1e4 {
			return nil, invalid("profile %q: scale %v out of range [0, 10000]", name, p.Scale)
		}
		if p.Jitter < 0 || time.Duration(p.Jitter) > maxDelay {
			return nil, invalid("profile %q: jitter %v out of range [0, %v]", name, time.Duration(p.Jitter), maxDelay)
		}
		for i, s := range p.Stages {
			if s.After < 0 || time.Duration(s.After) > maxDelay {
				return nil, invalid("profile %q: stage %d: after %v out of range [0, %v]", name, i, time.Duration(s.After), maxDelay)
			}
			if i > 0 && s.After < p.Stages[i-1].After {
				return nil, invalid("profile %q: stage %d: after must not decrease", name, i)
			}
			for _, r := range s.Regions {
				if _, ok := t.index[r]; !ok {
					return nil, invalid("profile %q: stage %d: unknown region %q", name, i, r)
				}
			}
		}
		p.Stages = slices.Clone(p.Stages)
		t.profiles[name] = p
	}
	if err := t.parseTiers(f.RECs); err != nil {
		return nil, err
	}
	return t, nil
}

// Home is the region where the control plane lives.
func (t *Topology) Home() string { return t.home }

// Regions lists the region names in file order.
func (t *Topology) Regions() []string {
	out := make([]string, len(t.regions))
	for i, r := range t.regions {
		out[i] = r.Name
	}
	return out
}

// PoPs lists the PoPs of a region (nil for an unknown region).
func (t *Topology) PoPs(region string) []string {
	i, ok := t.index[region]
	if !ok {
		return nil
	}
	return slices.Clone(t.regions[i].PoPs)
}

// HasRegion reports whether region is in the topology.
func (t *Topology) HasRegion(region string) bool {
	_, ok := t.index[region]
	return ok
}

// RegionOfPoP returns the region a PoP belongs to.
func (t *Topology) RegionOfPoP(pop string) (string, bool) {
	r, ok := t.popIndex[pop]
	return r, ok
}

// Latency is the one-way latency between two regions; 0 when either is unknown.
func (t *Topology) Latency(from, to string) time.Duration {
	i, ok1 := t.index[from]
	j, ok2 := t.index[to]
	if !ok1 || !ok2 {
		return 0
	}
	return t.latency[i][j]
}

// Nearest returns candidates sorted by latency from region from, ties broken
// by name. Candidates that are not regions sort last, by name.
func (t *Topology) Nearest(from string, candidates []string) []string {
	out := slices.Clone(candidates)
	key := func(r string) (bool, time.Duration) {
		if !t.HasRegion(r) || !t.HasRegion(from) {
			return false, 0
		}
		return true, t.Latency(from, r)
	}
	slices.SortStableFunc(out, func(a, b string) int {
		ka, la := key(a)
		kb, lb := key(b)
		switch {
		case ka != kb:
			if ka {
				return -1
			}
			return 1
		case la != lb:
			if la < lb {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return out
}

// ProfileNames lists the defined profiles, sorted.
func (t *Topology) ProfileNames() []string {
	out := make([]string, 0, len(t.profiles))
	for n := range t.profiles {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Profile returns a named delay profile. The name "instant" always exists
// (no delay) even when the file does not define it.
func (t *Topology) Profile(name string) (Profile, error) {
	p, ok := t.profiles[name]
	if !ok {
		if name == "instant" {
			return Profile{}, nil
		}
		return Profile{}, fmt.Errorf("%w %q (have %s)", ErrUnknownProfile, name, strings.Join(t.ProfileNames(), ", "))
	}
	return p, nil
}

// StageDelay is the staged-rollout delay of a region: the After of the first
// stage naming it, else the last stage's After, else 0.
func (p Profile) StageDelay(region string) time.Duration {
	if len(p.Stages) == 0 {
		return 0
	}
	for _, s := range p.Stages {
		if slices.Contains(s.Regions, region) {
			return time.Duration(s.After)
		}
	}
	return time.Duration(p.Stages[len(p.Stages)-1].After)
}

// Base is the deterministic part of the delay for region: latency(home ->
// region) x scale + the stage delay.
func (p Profile) Base(region, home string, t *Topology) time.Duration {
	var lat time.Duration
	if t != nil {
		lat = t.Latency(home, region)
	}
	return time.Duration(float64(lat)*p.Scale) + p.StageDelay(region)
}

// Delay is the modelled delay of one update to a node in region: Base plus a
// uniform jitter in [0, Jitter). rnd may be nil (no jitter). rnd is not safe
// for concurrent use; callers own one each.
func (p Profile) Delay(region, home string, t *Topology, rnd *rand.Rand) time.Duration {
	d := p.Base(region, home, t)
	if p.Jitter > 0 && rnd != nil {
		d += time.Duration(rnd.Int64N(int64(p.Jitter)))
	}
	return d
}
