package desired

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

func fv(name string, v int64, sha string) *edgelabv1.FunctionVersion {
	return &edgelabv1.FunctionVersion{Name: name, Version: v, Sha256: sha}
}

func dist(id string, refs ...Key) *edgelabv1.Distribution {
	b := &edgelabv1.Behavior{Path: "default"}
	for _, k := range refs {
		b.Functions = append(b.Functions, &edgelabv1.Association{Function: k.Name, Version: k.Version})
	}
	return &edgelabv1.Distribution{Id: id, Behaviors: []*edgelabv1.Behavior{b}}
}

func putD(d *edgelabv1.Distribution) *edgelabv1.Change {
	return &edgelabv1.Change{Change: &edgelabv1.Change_PutDistribution{PutDistribution: d}}
}

func putF(f *edgelabv1.FunctionVersion) *edgelabv1.Change {
	return &edgelabv1.Change{Change: &edgelabv1.Change_PutFunction{PutFunction: f}}
}

func delF(k Key) *edgelabv1.Change {
	return &edgelabv1.Change{Change: &edgelabv1.Change_DeleteFunction{DeleteFunction: &edgelabv1.FunctionRef{Name: k.Name, Version: k.Version}}}
}

func delD(id string) *edgelabv1.Change {
	return &edgelabv1.Change{Change: &edgelabv1.Change_DeleteDistribution{DeleteDistribution: id}}
}

var a1, a2, b1 = Key{"a", 1}, Key{"a", 2}, Key{"b", 1}

func TestKey(t *testing.T) {
	if got := (Key{"auth", 3}).String(); got != "auth:3" {
		t.Fatalf("String = %q", got)
	}
	d := dist("d", a1, b1, a1)
	d.Behaviors = append(d.Behaviors, dist("x", b1, a2).Behaviors...)
	if got := Refs(d); !slices.Equal(got, []Key{a1, b1, a2}) {
		t.Fatalf("Refs = %v", got)
	}
	if KeyOf(fv("a", 2, "")) != a2 || RefKey(&edgelabv1.FunctionRef{Name: "b", Version: 1}) != b1 {
		t.Fatal("KeyOf/RefKey disagree with Key")
	}
}

func TestApplyDelta(t *testing.T) {
	s, err := FromSnapshot(&edgelabv1.Snapshot{Revision: 5, Distributions: []*edgelabv1.Distribution{dist("d", a1)},
		Functions: []*edgelabv1.FunctionVersion{fv("a", 1, "x")}})
	if err != nil {
		t.Fatal(err)
	}
	inv := &edgelabv1.Invalidation{Id: "i", DistributionId: "d"}
	changed, invs, err := s.ApplyDelta(&edgelabv1.Delta{PrevRevision: 5, Revision: 7, Changes: []*edgelabv1.Change{
		putF(fv("a", 2, "y")), delF(a1), putD(dist("d", a2)), putD(dist("e", a2, b1)),
		{Change: &edgelabv1.Change_Invalidation{Invalidation: inv}}}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Revision() != 7 || len(invs) != 1 || invs[0] != inv {
		t.Fatalf("revision %d invalidations %v", s.Revision(), invs)
	}
	if got := changed.Functions(); !slices.Equal(got, []Key{a1, a2}) {
		t.Fatalf("changed functions %v", got)
	}
	if got := changed.Distributions(); !slices.Equal(got, []string{"d", "e"}) {
		t.Fatalf("changed distributions %v", got)
	}
	if got := s.Users(a2); !slices.Equal(got, []string{"d", "e"}) {
		t.Fatalf("users of a:2 %v", got)
	}
	if s.Referenced(a1) || !s.Referenced(b1) || s.Function(b1) != nil {
		t.Fatal("references not tracked: a:1 still used or b:1 lost")
	}
	// e is deleted: b:1 has no user left.
	if _, _, err := s.ApplyDelta(&edgelabv1.Delta{PrevRevision: 7, Revision: 8, Changes: []*edgelabv1.Change{delD("e"), delD("nope")}}); err != nil {
		t.Fatal(err)
	}
	if s.Referenced(b1) || s.NumDistributions() != 1 || s.NumFunctions() != 1 {
		t.Fatalf("after delete: b:1 referenced %v, %d dists, %d functions", s.Referenced(b1), s.NumDistributions(), s.NumFunctions())
	}
}

// TestApplyDeltaRefusesOutOfOrder: a delta that does not follow changes nothing.
func TestApplyDeltaRefusesOutOfOrder(t *testing.T) {
	for name, d := range map[string]*edgelabv1.Delta{
		"gap":       {PrevRevision: 4, Revision: 9, Changes: []*edgelabv1.Change{delD("d")}},
		"same rev":  {PrevRevision: 5, Revision: 5, Changes: []*edgelabv1.Change{delD("d")}},
		"backwards": {PrevRevision: 5, Revision: 3, Changes: []*edgelabv1.Change{delD("d")}},
	} {
		t.Run(name, func(t *testing.T) {
			s := New()
			s.PutDistribution(dist("d"))
			s.SetRevision(5)
			if _, _, err := s.ApplyDelta(d); err == nil || !strings.Contains(err.Error(), "does not follow") {
				t.Fatalf("err %v", err)
			}
			if s.Revision() != 5 || s.Distribution("d") == nil {
				t.Fatal("a refused delta changed the state")
			}
		})
	}
}

func TestFromSnapshotRefusesDuplicateDistribution(t *testing.T) {
	_, err := FromSnapshot(&edgelabv1.Snapshot{Revision: 1, Distributions: []*edgelabv1.Distribution{dist("d"), dist("d")}})
	if err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("err %v", err)
	}
}

// TestChangesAndDiffRoundTrip: the changes Diff names, applied to the old
// state, give exactly the new one.
func TestChangesAndDiffRoundTrip(t *testing.T) {
	old, _ := FromSnapshot(&edgelabv1.Snapshot{Revision: 3,
		Distributions: []*edgelabv1.Distribution{dist("d", a1), dist("gone")},
		Functions:     []*edgelabv1.FunctionVersion{fv("a", 1, "x"), fv("b", 1, "z")}})
	cur, _ := FromSnapshot(&edgelabv1.Snapshot{Revision: 9,
		Distributions: []*edgelabv1.Distribution{dist("d", a2), dist("new", b1)},
		Functions:     []*edgelabv1.FunctionVersion{fv("a", 2, "y"), fv("b", 1, "z2")}})
	c := Diff(old, cur)
	if got := c.Functions(); !slices.Equal(got, []Key{a1, a2, b1}) {
		t.Fatalf("diff functions %v", got)
	}
	if got := c.Distributions(); !slices.Equal(got, []string{"d", "gone", "new"}) {
		t.Fatalf("diff distributions %v", got)
	}
	if !Diff(cur, cur).Empty() {
		t.Fatal("a state differs from itself")
	}
	if _, _, err := old.ApplyDelta(&edgelabv1.Delta{PrevRevision: 3, Revision: 9, Changes: cur.Changes(c)}); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(old.Snapshot(), cur.Snapshot()) {
		t.Fatalf("round trip:\n%v\nwant\n%v", old.Snapshot(), cur.Snapshot())
	}
	if got := All(cur).Len(); got != 4 {
		t.Fatalf("All names %d objects, want 4", got)
	}
}

func TestBuilder(t *testing.T) {
	b := NewBuilder()
	b.PutVersion(fv("a", 1, "x"))
	b.PutVersion(fv("a", 2, "y")) // stored, not referenced
	b.PutDistribution(dist("d", a1, b1))
	if d := b.Commit(10); d.PrevRevision != 0 || d.Revision != 10 || describe(d) != "+fn a:1,+dist d" {
		t.Fatalf("first commit %d->%d %s", d.PrevRevision, d.Revision, describe(d))
	}
	steps := []struct {
		name string
		do   func()
		want string
	}{
		{"nothing", func() {}, ""},
		{"referenced version arrives", func() { b.PutVersion(fv("b", 1, "z")) }, "+fn b:1"},
		{"repoint to a stored version", func() { b.PutDistribution(dist("d", a2, b1)) }, "-fn a:1,+fn a:2,+dist d"},
		{"unreferenced version deleted", func() { b.DeleteVersion(a1) }, ""},
		{"referenced version rewritten", func() { b.PutVersion(fv("a", 2, "y2")) }, "+fn a:2"},
		{"referenced version deleted", func() { b.DeleteVersion(b1) }, "-fn b:1"},
		{"distribution deleted", func() { b.DeleteDistribution("d"); b.DeleteDistribution("none") }, "-fn a:2,-dist d"},
	}
	rev := int64(10)
	for _, st := range steps {
		st.do()
		d := b.Commit(rev + 1)
		if d.PrevRevision != rev || describe(d) != st.want {
			t.Fatalf("%s: %d->%d %q, want %d->%d %q", st.name, d.PrevRevision, d.Revision, describe(d), rev, rev+1, st.want)
		}
		rev++
	}
	if b.Stored(a2) == nil || b.Stored(a1) != nil {
		t.Fatal("Stored disagrees with the puts and deletes")
	}
	b.PutDistribution(dist("e", a2))
	b.Commit(rev + 1)
	for id, d := range b.State().Distributions() {
		if id != "e" || d.GetId() != "e" {
			t.Fatalf("Distributions yields %s", id)
		}
	}
	for k := range b.State().Functions() {
		if k != a2 {
			t.Fatalf("Functions yields %s", k)
		}
	}
	b.DeleteDistribution("e")
	rev += 2
	b.Commit(rev)
	if b.Snapshot().Revision != rev || b.State().NumFunctions() != 0 || b.State().NumDistributions() != 0 {
		t.Fatalf("final snapshot %v", b.Snapshot())
	}
}

func describe(d *edgelabv1.Delta) string {
	var out []string
	for _, ch := range d.GetChanges() {
		switch x := ch.GetChange().(type) {
		case *edgelabv1.Change_PutFunction:
			out = append(out, "+fn "+KeyOf(x.PutFunction).String())
		case *edgelabv1.Change_DeleteFunction:
			out = append(out, "-fn "+RefKey(x.DeleteFunction).String())
		case *edgelabv1.Change_PutDistribution:
			out = append(out, "+dist "+x.PutDistribution.GetId())
		case *edgelabv1.Change_DeleteDistribution:
			out = append(out, "-dist "+x.DeleteDistribution)
		}
	}
	return strings.Join(out, ",")
}
