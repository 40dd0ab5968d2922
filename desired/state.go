package desired

import (
	"fmt"
	"iter"
	"maps"
	"slices"

	"google.golang.org/protobuf/proto"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// State is the desired state at one revision: distributions by id,
// function versions by Key, and which distributions use which version.
// Updating it costs what the change touches, not what the state holds.
// Not safe for concurrent use.
type State struct {
	rev   int64
	dists map[string]*edgelabv1.Distribution
	funcs map[Key]*edgelabv1.FunctionVersion
	// users are the distributions whose associations name each key
	// (whether or not the version itself is in funcs).
	users map[Key]map[string]struct{}
}

// New returns an empty state at revision 0.
func New() *State {
	return &State{
		dists: map[string]*edgelabv1.Distribution{},
		funcs: map[Key]*edgelabv1.FunctionVersion{},
		users: map[Key]map[string]struct{}{},
	}
}

// FromSnapshot is the state a snapshot describes (its invalidations are
// events, not state, and are left out). Two distributions with one id are
// refused.
func FromSnapshot(snap *edgelabv1.Snapshot) (*State, error) {
	s := New()
	s.rev = snap.GetRevision()
	for _, d := range snap.GetDistributions() {
		if _, dup := s.dists[d.GetId()]; dup {
			return nil, fmt.Errorf("snapshot %d: distribution %q: duplicate id", s.rev, d.GetId())
		}
		s.PutDistribution(d)
	}
	for _, fv := range snap.GetFunctions() {
		s.PutFunction(fv)
	}
	return s, nil
}

// Revision is the revision the state is at.
func (s *State) Revision() int64 { return s.rev }

// SetRevision moves the state to rev without changing its content.
func (s *State) SetRevision(rev int64) { s.rev = rev }

// Distribution returns distribution id, nil if absent.
func (s *State) Distribution(id string) *edgelabv1.Distribution { return s.dists[id] }

// Function returns function version k, nil if absent.
func (s *State) Function(k Key) *edgelabv1.FunctionVersion { return s.funcs[k] }

// NumDistributions is the number of distributions held.
func (s *State) NumDistributions() int { return len(s.dists) }

// NumFunctions is the number of function versions held.
func (s *State) NumFunctions() int { return len(s.funcs) }

// Distributions yields every distribution by id, in no particular order.
// The state must not change while it is ranged over.
func (s *State) Distributions() iter.Seq2[string, *edgelabv1.Distribution] { return maps.All(s.dists) }

// Functions yields every function version by key, in no particular order.
// The state must not change while it is ranged over.
func (s *State) Functions() iter.Seq2[Key, *edgelabv1.FunctionVersion] { return maps.All(s.funcs) }

// Users lists, sorted, the distributions whose associations name k.
func (s *State) Users(k Key) []string { return slices.Sorted(maps.Keys(s.users[k])) }

// Referenced reports whether some distribution's associations name k.
func (s *State) Referenced(k Key) bool { return len(s.users[k]) > 0 }

// PutDistribution adds or replaces distribution d (by its id).
func (s *State) PutDistribution(d *edgelabv1.Distribution) {
	s.DeleteDistribution(d.GetId())
	s.dists[d.GetId()] = d
	for _, k := range Refs(d) {
		u := s.users[k]
		if u == nil {
			u = map[string]struct{}{}
			s.users[k] = u
		}
		u[d.GetId()] = struct{}{}
	}
}

// DeleteDistribution removes distribution id, if present.
func (s *State) DeleteDistribution(id string) {
	old, ok := s.dists[id]
	if !ok {
		return
	}
	for _, k := range Refs(old) {
		delete(s.users[k], id)
		if len(s.users[k]) == 0 {
			delete(s.users, k)
		}
	}
	delete(s.dists, id)
}

// PutFunction adds or replaces function version fv (by its key).
func (s *State) PutFunction(fv *edgelabv1.FunctionVersion) { s.funcs[KeyOf(fv)] = fv }

// DeleteFunction removes function version k, if present.
func (s *State) DeleteFunction(k Key) { delete(s.funcs, k) }

// ApplyChange applies one change, adds what it touched to changed and
// returns the invalidation it carries, if any (invalidations are events:
// they change no state).
func (s *State) ApplyChange(ch *edgelabv1.Change, changed *Changed) *edgelabv1.Invalidation {
	switch x := ch.GetChange().(type) {
	case *edgelabv1.Change_PutDistribution:
		s.PutDistribution(x.PutDistribution)
		changed.AddDistribution(x.PutDistribution.GetId())
	case *edgelabv1.Change_DeleteDistribution:
		s.DeleteDistribution(x.DeleteDistribution)
		changed.AddDistribution(x.DeleteDistribution)
	case *edgelabv1.Change_PutFunction:
		s.PutFunction(x.PutFunction)
		changed.AddFunction(KeyOf(x.PutFunction))
	case *edgelabv1.Change_DeleteFunction:
		s.DeleteFunction(RefKey(x.DeleteFunction))
		changed.AddFunction(RefKey(x.DeleteFunction))
	case *edgelabv1.Change_Invalidation:
		return x.Invalidation
	}
	return nil
}

// ApplyDelta moves the state from d's prev_revision to its revision and
// returns what changed and the invalidations d carries. A delta that does
// not follow the state's revision is refused and leaves the state as it was.
func (s *State) ApplyDelta(d *edgelabv1.Delta) (Changed, []*edgelabv1.Invalidation, error) {
	var changed Changed
	if d.GetPrevRevision() != s.rev || d.GetRevision() <= s.rev {
		return changed, nil, fmt.Errorf("delta %d (on top of %d) does not follow revision %d",
			d.GetRevision(), d.GetPrevRevision(), s.rev)
	}
	var invs []*edgelabv1.Invalidation
	for _, ch := range d.GetChanges() {
		if inv := s.ApplyChange(ch, &changed); inv != nil {
			invs = append(invs, inv)
		}
	}
	s.rev = d.GetRevision()
	return changed, invs, nil
}

// Snapshot is the whole state as a Snapshot, distributions sorted by id and
// function versions by key (deterministic). It shares the state's protos.
func (s *State) Snapshot() *edgelabv1.Snapshot {
	snap := &edgelabv1.Snapshot{Revision: s.rev}
	for _, id := range slices.Sorted(maps.Keys(s.dists)) {
		snap.Distributions = append(snap.Distributions, s.dists[id])
	}
	for _, k := range slices.SortedFunc(maps.Keys(s.funcs), compareKeys) {
		snap.Functions = append(snap.Functions, s.funcs[k])
	}
	return snap
}

// Changes expresses what c names as changes to reach s: a put of each
// object s holds, a delete of each it does not; function versions first
// (sorted), then distributions (sorted).
func (s *State) Changes(c Changed) []*edgelabv1.Change {
	out := make([]*edgelabv1.Change, 0, c.Len())
	for _, k := range c.Functions() {
		if fv, ok := s.funcs[k]; ok {
			out = append(out, &edgelabv1.Change{Change: &edgelabv1.Change_PutFunction{PutFunction: fv}})
		} else {
			out = append(out, &edgelabv1.Change{Change: &edgelabv1.Change_DeleteFunction{
				DeleteFunction: &edgelabv1.FunctionRef{Name: k.Name, Version: k.Version}}})
		}
	}
	for _, id := range c.Distributions() {
		if d, ok := s.dists[id]; ok {
			out = append(out, &edgelabv1.Change{Change: &edgelabv1.Change_PutDistribution{PutDistribution: d}})
		} else {
			out = append(out, &edgelabv1.Change{Change: &edgelabv1.Change_DeleteDistribution{DeleteDistribution: id}})
		}
	}
	return out
}

// Diff names every object whose value differs between old and new (present
// in one only, or not equal). It costs O(size of both states); a nil old
// is the empty state.
func Diff(old, new *State) Changed {
	if old == nil {
		old = New()
	}
	var c Changed
	for id, d := range new.dists {
		if o, ok := old.dists[id]; !ok || (o != d && !proto.Equal(o, d)) {
			c.AddDistribution(id)
		}
	}
	for id := range old.dists {
		if _, ok := new.dists[id]; !ok {
			c.AddDistribution(id)
		}
	}
	for k, fv := range new.funcs {
		if o, ok := old.funcs[k]; !ok || !sameVersion(o, fv) {
			c.AddFunction(k)
		}
	}
	for k := range old.funcs {
		if _, ok := new.funcs[k]; !ok {
			c.AddFunction(k)
		}
	}
	return c
}

// sameVersion compares two versions with one key: by pointer, by their
// content hash when both carry one, else in full.
func sameVersion(a, b *edgelabv1.FunctionVersion) bool {
	if a == b {
		return true
	}
	if a.GetSha256() != "" && b.GetSha256() != "" {
		return a.GetSha256() == b.GetSha256()
	}
	return proto.Equal(a, b)
}
