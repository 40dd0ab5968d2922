package desired

import (
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// Builder builds the desired State from the source of truth (the control
// plane's view of etcd): every distribution and every stored function
// version, referenced or not. Its State holds the distributions and only
// the stored versions some distribution references; each Put/Delete records
// what that changed in the State, and Commit turns the record into the
// revision's Delta. Not safe for concurrent use.
//
// The hub uses it as: on load, NewBuilder, Put* every key, Commit(rev)
// (discard the Delta), Snapshot(); on each etcd revision, Put*/Delete* per
// event, Commit(rev) -> the Delta to send; Snapshot() for a node that needs
// one.
type Builder struct {
	state   *State
	stored  map[Key]*edgelabv1.FunctionVersion
	changed Changed
}

// NewBuilder returns an empty Builder at revision 0.
func NewBuilder() *Builder {
	return &Builder{state: New(), stored: map[Key]*edgelabv1.FunctionVersion{}}
}

// State is the desired state built so far (read only: change it through
// the Builder).
func (b *Builder) State() *State { return b.state }

// Snapshot is State().Snapshot().
func (b *Builder) Snapshot() *edgelabv1.Snapshot { return b.state.Snapshot() }

// Stored returns stored function version k, referenced or not; nil if absent.
func (b *Builder) Stored(k Key) *edgelabv1.FunctionVersion { return b.stored[k] }

// PutDistribution stores distribution d; the versions it references become
// part of the desired state, those only its previous value referenced
// leave it.
func (b *Builder) PutDistribution(d *edgelabv1.Distribution) {
	before := b.refsOf(d.GetId())
	b.state.PutDistribution(d)
	b.changed.AddDistribution(d.GetId())
	b.syncAll(before)
	b.syncAll(Refs(d))
}

// DeleteDistribution removes distribution id, if stored.
func (b *Builder) DeleteDistribution(id string) {
	if b.state.Distribution(id) == nil {
		return
	}
	before := b.refsOf(id)
	b.state.DeleteDistribution(id)
	b.changed.AddDistribution(id)
	b.syncAll(before)
}

// PutVersion stores function version fv; it is part of the desired state
// while a distribution references it.
func (b *Builder) PutVersion(fv *edgelabv1.FunctionVersion) {
	k := KeyOf(fv)
	b.stored[k] = fv
	if b.state.Referenced(k) {
		b.state.PutFunction(fv)
		b.changed.AddFunction(k)
	}
}

// DeleteVersion removes stored function version k.
func (b *Builder) DeleteVersion(k Key) {
	delete(b.stored, k)
	b.sync(k)
}

// Commit moves the State to rev and returns the Delta from the previous
// commit's revision: every object put or deleted since, as its current
// value (see State.Changes). An object changed and changed back is sent
// as it is. The Delta has no invalidations, timestamps or server id; the
// caller adds them.
func (b *Builder) Commit(rev int64) *edgelabv1.Delta {
	d := &edgelabv1.Delta{Revision: rev, PrevRevision: b.state.Revision(), Changes: b.state.Changes(b.changed)}
	b.state.SetRevision(rev)
	b.changed = Changed{}
	return d
}

func (b *Builder) refsOf(id string) []Key {
	if d := b.state.Distribution(id); d != nil {
		return Refs(d)
	}
	return nil
}

func (b *Builder) syncAll(ks []Key) {
	for _, k := range ks {
		b.sync(k)
	}
}

// sync makes the State hold k exactly when it is stored and referenced.
func (b *Builder) sync(k Key) {
	want := b.stored[k]
	if !b.state.Referenced(k) {
		want = nil
	}
	have := b.state.Function(k)
	switch {
	case want == have:
	case want == nil:
		b.state.DeleteFunction(k)
		b.changed.AddFunction(k)
	default:
		b.state.PutFunction(want)
		b.changed.AddFunction(k)
	}
}
