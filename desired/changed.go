package desired

import (
	"cmp"
	"maps"
	"slices"
)

// Changed names the objects a revision (or several) touched: distributions
// by id and function versions by key, whether put or deleted. The current
// value of each (or its absence) is read from the State. The zero value is
// an empty set ready to use.
type Changed struct {
	dists map[string]struct{}
	funcs map[Key]struct{}
}

// All is the set naming every object of s (everything changed, as when a
// state is applied on top of nothing).
func All(s *State) Changed {
	var c Changed
	for id := range s.dists {
		c.AddDistribution(id)
	}
	for k := range s.funcs {
		c.AddFunction(k)
	}
	return c
}

// AddDistribution adds distribution id.
func (c *Changed) AddDistribution(id string) {
	if c.dists == nil {
		c.dists = map[string]struct{}{}
	}
	c.dists[id] = struct{}{}
}

// AddFunction adds function version k.
func (c *Changed) AddFunction(k Key) {
	if c.funcs == nil {
		c.funcs = map[Key]struct{}{}
	}
	c.funcs[k] = struct{}{}
}

// Merge adds everything o names.
func (c *Changed) Merge(o Changed) {
	for id := range o.dists {
		c.AddDistribution(id)
	}
	for k := range o.funcs {
		c.AddFunction(k)
	}
}

// Empty reports whether nothing changed.
func (c Changed) Empty() bool { return len(c.dists) == 0 && len(c.funcs) == 0 }

// Len is the number of objects named.
func (c Changed) Len() int { return len(c.dists) + len(c.funcs) }

// HasDistribution reports whether distribution id is named.
func (c Changed) HasDistribution(id string) bool { _, ok := c.dists[id]; return ok }

// HasFunction reports whether function version k is named.
func (c Changed) HasFunction(k Key) bool { _, ok := c.funcs[k]; return ok }

// Distributions lists the distribution ids, sorted.
func (c Changed) Distributions() []string { return slices.Sorted(maps.Keys(c.dists)) }

// Functions lists the function version keys, sorted by name then version.
func (c Changed) Functions() []Key {
	return slices.SortedFunc(maps.Keys(c.funcs), compareKeys)
}

func compareKeys(a, b Key) int {
	if n := cmp.Compare(a.Name, b.Name); n != 0 {
		return n
	}
	return cmp.Compare(a.Version, b.Version)
}
