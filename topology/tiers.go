package topology

import (
	"slices"
	"strconv"
	"strings"
)

// REC is one regional edge cache: the second tier between a region's PoPs
// and the origin. A REC is named (by convention after its region, as in
// X-Edgelab-Rec: ap-northeast-1) and located in one region; several
// regions may miss to it.
type REC struct {
	// Name identifies the REC (node config, headers, status rows).
	Name string `json:"name"`
	// Region is where the REC is located. Default Name.
	Region string `json:"region,omitempty"`
	// Shield is an optional region whose REC this REC's misses go
	// through before the origin (an origin shield for every distribution;
	// a distribution's own originShield takes precedence). Empty or the
	// REC's own region: the REC goes to the origin itself.
	Shield string `json:"shield,omitempty"`
}

// tiers is the parsed second tier of a Topology.
type tiers struct {
	recs     []REC
	byName   map[string]int    // REC name -> position in recs
	byRegion map[string]string // region -> the REC located there
	popREC   map[string]string // PoP -> the REC it misses to ("" none)
}

// parseTiers validates the recs list and the regions' rec fields: every
// REC names an existing region (one REC per region), every region's rec
// names a REC, every shield names a region that has a REC, and following
// shields never comes back to a REC already passed.
func (t *Topology) parseTiers(recs []REC) error {
	t.tiers = tiers{byName: map[string]int{}, byRegion: map[string]string{}, popREC: map[string]string{}}
	for i, r := range recs {
		field := func(f string) string { return fieldName("recs", i, r.Name, f) }
		if r.Name == "" {
			return invalid("%s: empty", field("name"))
		}
		if _, dup := t.tiers.byName[r.Name]; dup {
			return invalid("%s: duplicate REC %q", field("name"), r.Name)
		}
		if r.Region == "" {
			r.Region = r.Name
		}
		if !t.HasRegion(r.Region) {
			return invalid("%s: region %q does not exist", field("region"), r.Region)
		}
		if other, dup := t.tiers.byRegion[r.Region]; dup {
			return invalid("%s: region %q already has REC %q (one REC per region)", field("region"), r.Region, other)
		}
		if r.Shield != "" && !t.HasRegion(r.Shield) {
			return invalid("%s: shield region %q does not exist", field("shield"), r.Shield)
		}
		t.tiers.byName[r.Name] = i
		t.tiers.byRegion[r.Region] = r.Name
		t.tiers.recs = append(t.tiers.recs, r)
	}
	for i, r := range t.tiers.recs {
		if r.Shield != "" && t.tiers.byRegion[r.Shield] == "" {
			return invalid("%s: shield region %q has no REC", fieldName("recs", i, r.Name, "shield"), r.Shield)
		}
		if cycle := t.shieldCycle(r.Name); cycle != nil {
			return invalid("%s: shields form a cycle: %s", fieldName("recs", i, r.Name, "shield"), strings.Join(cycle, " -> "))
		}
	}
	for i, reg := range t.regions {
		rec := reg.REC
		if rec == "" {
			rec = t.tiers.byRegion[reg.Name]
		} else if _, ok := t.tiers.byName[rec]; !ok {
			return invalid("%s: PoPs %s name unknown REC %q", fieldName("regions", i, reg.Name, "rec"), strings.Join(reg.PoPs, ", "), rec)
		}
		t.regions[i].REC = rec
		for _, p := range reg.PoPs {
			t.tiers.popREC[p] = rec
		}
	}
	return nil
}

// fieldName names a field of a list entry for errors: recs[2] (eu-west-1).shield.
func fieldName(list string, i int, name, field string) string {
	if name == "" {
		return list + "[" + strconv.Itoa(i) + "]." + field
	}
	return list + "[" + strconv.Itoa(i) + "] (" + name + ")." + field
}

// shieldCycle follows the shields from REC name and returns the path when
// it comes back to a REC already on it (nil: it ends at a REC that goes to
// the origin).
func (t *Topology) shieldCycle(name string) []string {
	path := []string{name}
	for {
		next, ok := t.ShieldOf(name)
		if !ok {
			return nil
		}
		path = append(path, next)
		if slices.Contains(path[:len(path)-1], next) {
			return path
		}
		name = next
	}
}

// RECs lists the regional edge caches in file order (empty: one tier).
func (t *Topology) RECs() []REC { return slices.Clone(t.tiers.recs) }

// REC returns a regional edge cache by name.
func (t *Topology) REC(name string) (REC, bool) {
	i, ok := t.tiers.byName[name]
	if !ok {
		return REC{}, false
	}
	return t.tiers.recs[i], true
}

// RECInRegion returns the name of the REC located in region.
func (t *Topology) RECInRegion(region string) (string, bool) {
	r, ok := t.tiers.byRegion[region]
	return r, ok
}

// RECOfRegion returns the REC a region's PoPs miss to ("" none).
func (t *Topology) RECOfRegion(region string) string {
	i, ok := t.index[region]
	if !ok {
		return ""
	}
	return t.regions[i].REC
}

// RECOfPoP returns the REC a PoP misses to (false: none, or an unknown PoP).
func (t *Topology) RECOfPoP(pop string) (string, bool) {
	r := t.tiers.popREC[pop]
	return r, r != ""
}

// ShieldOf returns the REC a REC's misses go through by the topology's
// shields (false: none; the REC goes to the origin).
func (t *Topology) ShieldOf(rec string) (string, bool) {
	r, ok := t.REC(rec)
	if !ok || r.Shield == "" || r.Shield == r.Region {
		return "", false
	}
	s, ok := t.tiers.byRegion[r.Shield]
	return s, ok
}

// RECsByPreference lists the RECs a PoP in region tries, in order: the
// region's own REC first, then the others nearest first (ties by name).
// Empty when the topology has no RECs.
func (t *Topology) RECsByPreference(region string) []string {
	own := t.RECOfRegion(region)
	var others []string
	locs := map[string]string{}
	for _, r := range t.tiers.recs {
		if r.Name != own {
			others = append(others, r.Region)
			locs[r.Region] = r.Name
		}
	}
	var out []string
	if own != "" {
		out = append(out, own)
	}
	for _, reg := range t.Nearest(region, others) {
		out = append(out, locs[reg])
	}
	return out
}
