package statelog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/desired"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// TestSaveSyncsOncePerRevision: a delta save is one write and one file
// fsync; the first save (a base) one file and one directory fsync.
func TestSaveSyncsOncePerRevision(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Load(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load of an empty dir: %v", err)
	}
	prev := mustState(1)
	if err := l.Save(prev, desired.All(prev)); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s.FileSyncs != 1 || s.DirSyncs != 1 || s.Bases != 1 {
		t.Fatalf("first save: %+v, want one file and one dir fsync", s)
	}
	for rev := int64(2); rev <= 5; rev++ {
		before := l.Stats()
		next := mustState(rev)
		if err := l.Save(next, desired.Diff(prev, next)); err != nil {
			t.Fatal(err)
		}
		s := l.Stats()
		if s.FileSyncs-before.FileSyncs != 1 || s.DirSyncs != before.DirSyncs || s.Bases != 1 {
			t.Fatalf("revision %d: %+v -> %+v, want one file fsync and no base", rev, before, s)
		}
		// The record holds what changed: one new version, not the others.
		if w := s.BytesWritten - before.BytesWritten; w > 400 {
			t.Fatalf("revision %d wrote %d bytes", rev, w)
		}
		prev = next
	}
	got, err := Read(dir)
	if err != nil || !proto.Equal(got.Snapshot(), prev.Snapshot()) || l.Revision() != 5 {
		t.Fatalf("Read = %v, %v", got, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("state dir has %d entries, want state.log alone", len(entries))
	}
}

// TestCompaction: once the deltas outweigh the base (and minCompact), the
// next save writes a new base, and the log reads back the same.
func TestCompaction(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	big := func(rev int64) *desired.State {
		st := desired.New()
		st.SetRevision(rev)
		st.PutFunction(&edgelabv1.FunctionVersion{Name: "f", Version: 1, Files: []*edgelabv1.SourceFile{{Content: make([]byte, 200<<10)}}})
		st.PutDistribution(&edgelabv1.Distribution{Id: "d", Domains: []string{strings.Repeat("x", int(rev))}})
		return st
	}
	var changed desired.Changed
	changed.AddDistribution("d")
	changed.AddFunction(desired.Key{Name: "f", Version: 1}) // rewritten every time: 200 KB a record
	for rev := int64(1); rev <= 12; rev++ {
		if err := l.Save(big(rev), changed); err != nil {
			t.Fatal(err)
		}
	}
	// Base at 1 (200 KB); deltas pass max(base, 1 MiB) after 6 of them.
	if s := l.Stats(); s.Bases != 2 {
		t.Fatalf("%d bases written, want 2 (one compaction)", s.Bases)
	}
	got, err := Read(dir)
	if err != nil || !proto.Equal(got.Snapshot(), big(12).Snapshot()) {
		t.Fatalf("after compaction: %v", err)
	}
}

// TestHostileFiles: whatever the file holds, Load and Read either return
// an error or a whole revision, and the next Save works.
func TestHostileFiles(t *testing.T) {
	good := func(t *testing.T) []byte {
		dir := t.TempDir()
		prepareLog(t, dir)
		data, err := os.ReadFile(filepath.Join(dir, FileName))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}(t)
	baseOnly := len(good) - 1
	for len(good[:baseOnly]) > 0 {
		if d, err := decode(strings.NewReader(string(good[:baseOnly]))); err == nil && !d.torn && d.state.Revision() == 1 {
			break
		}
		baseOnly--
	}
	tests := []struct {
		name    string
		data    []byte
		wantRev int64 // 0: an error
	}{
		{"empty", nil, 0},
		{"bad magic", append([]byte("NOTALOG!"), good[8:]...), 0},
		{"magic only", []byte(magic), 0},
		{"huge length", append([]byte(magic), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), 0},
		{"base cut short", good[:baseOnly-3], 0},
		{"base flipped bit", flip(good, 20), 0},
		{"whole", good, 2},
		{"delta cut short", good[:len(good)-2], 1},
		{"delta flipped bit", flip(good, len(good)-2), 1},
		{"garbage after", append(append([]byte(nil), good...), "garbage!!!!!"...), 2},
		{"delta repeated", append(append([]byte(nil), good...), good[baseOnly:]...), 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, FileName), tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := Read(dir)
			if tc.wantRev == 0 {
				if err == nil {
					t.Fatalf("accepted: revision %d", got.Revision())
				}
			} else if err != nil || got.Revision() != tc.wantRev || !proto.Equal(got.Snapshot(), mustState(tc.wantRev).Snapshot()) {
				t.Fatalf("Read = %v, %v; want revision %d", got, err, tc.wantRev)
			}
			l, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			loaded, err := l.Load()
			if (err == nil) != (tc.wantRev != 0) {
				t.Fatalf("Load = %v, %v", loaded, err)
			}
			next := mustState(3)
			if err := l.Save(next, desired.Diff(loaded, next)); err != nil {
				t.Fatal(err)
			}
			if again, err := Read(dir); err != nil || !proto.Equal(again.Snapshot(), next.Snapshot()) {
				t.Fatalf("after the next save: %v, %v", again, err)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x40
	return c
}

// TestLegacyMigration: a state.pb is read once, rewritten as state.log and
// removed; a corrupt one is an error and goes at the next save.
func TestLegacyMigration(t *testing.T) {
	dir := t.TempDir()
	old := mustState(7)
	data, _ := proto.Marshal(old.Snapshot())
	if err := os.WriteFile(filepath.Join(dir, LegacyFileName), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := Read(dir); err != nil || got.Revision() != 7 {
		t.Fatalf("Read of legacy = %v, %v", got, err)
	}
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.Load()
	if err != nil || !proto.Equal(got.Snapshot(), old.Snapshot()) {
		t.Fatalf("Load = %v, %v", got, err)
	}
	l.Close()
	if _, err := os.Stat(filepath.Join(dir, LegacyFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state.pb kept: %v", err)
	}
	if got, err := Read(dir); err != nil || !proto.Equal(got.Snapshot(), old.Snapshot()) {
		t.Fatalf("state.log after migration = %v, %v", got, err)
	}
	for name, data := range map[string][]byte{
		"garbage":     []byte("\x0a\xff\xff\xff"),
		"no revision": {},
		"negative":    {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, LegacyFileName), data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Read(dir); err == nil {
				t.Fatal("a corrupt state.pb was read")
			}
			l, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if _, err := l.Load(); err == nil {
				t.Fatal("a corrupt state.pb was loaded")
			}
			next := mustState(8)
			if err := l.Save(next, desired.All(next)); err != nil {
				t.Fatal(err)
			}
			if got, err := Read(dir); err != nil || got.Revision() != 8 {
				t.Fatalf("after save: %v, %v", got, err)
			}
		})
	}
}

func TestOpenRemovesLeftoverTemps(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, tmpPrefix+"123"), []byte("half a base"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("leftover temp kept: %v", entries)
	}
}
