package replica

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/desired"
	"github.com/edgelab/edgelab/edgenode/statelog"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

var noop = ApplierFunc(func(context.Context, *edgelabv1.Snapshot, []*edgelabv1.Invalidation) error { return nil })

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no id", Config{Endpoints: []string{"x"}, Applier: noop}, "NodeID"},
		{"no endpoints", Config{NodeID: "n", Applier: noop}, "endpoint"},
		{"no applier", Config{NodeID: "n", Endpoints: []string{"x"}, DialOptions: plaintext()}, "Applier"},
		{"no transport credentials", Config{NodeID: "n", Endpoints: []string{"x"}, Applier: noop}, "DialOptions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want mention of %s", err, tc.want)
			}
		})
	}
}

func TestStateRoundTripAndCorruption(t *testing.T) {
	dir := t.TempDir()
	st := desired.New()
	st.PutDistribution(&edgelabv1.Distribution{Id: "d"})
	st.SetRevision(42)
	l, err := statelog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Save(st, desired.All(st)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	got, err := LoadState(dir)
	if err != nil || got.Revision != 42 || got.Distributions[0].Id != "d" {
		t.Fatalf("LoadState = %v, %v", got, err)
	}
	// No temp files left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("state dir has %d entries, want 1", len(entries))
	}
	for name, data := range map[string][]byte{
		"garbage":     []byte("\x0a\xff\xff\xff"),
		"no revision": {},
		"negative":    {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		for _, file := range []string{statelog.LegacyFileName, statelog.FileName} {
			t.Run(name+" "+file, func(t *testing.T) {
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, file), data, 0o600); err != nil {
					t.Fatal(err)
				}
				if _, err := LoadState(dir); err == nil {
					t.Fatal("corrupt state accepted")
				}
				c, err := New(Config{DialOptions: plaintext(), NodeID: "n", Endpoints: []string{"127.0.0.1:1"}, Applier: noop, StateDir: dir,
					Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
				if err != nil {
					t.Fatalf("New must ignore a corrupt state: %v", err)
				}
				if c.boot != nil || c.Revision() != 0 {
					t.Fatal("corrupt state loaded")
				}
			})
		}
	}
	if _, err := LoadState(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing state: %v", err)
	}
}

// TestDeltaChain checks the node-side invariants without a network: a delta
// that does not follow asks for a resync, a NACKed revision keeps the
// previous state, and revisions never go back.
func TestDeltaChain(t *testing.T) {
	var failOn int64
	var applied []int64
	app := ApplierFunc(func(_ context.Context, s *edgelabv1.Snapshot, _ []*edgelabv1.Invalidation) error {
		if s.Revision == failOn {
			return errors.New("boom")
		}
		applied = append(applied, s.Revision)
		return nil
	})
	c, err := New(Config{DialOptions: plaintext(), NodeID: "n", Endpoints: []string{"x"}, Applier: app, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	snap := func(rev int64) *edgelabv1.StreamResponse {
		return &edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Snapshot{Snapshot: &edgelabv1.Snapshot{Revision: rev}}}
	}
	delta := func(prev, rev int64) *edgelabv1.StreamResponse {
		return &edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Delta{Delta: &edgelabv1.Delta{PrevRevision: prev, Revision: rev,
			Changes: []*edgelabv1.Change{{Change: &edgelabv1.Change_PutDistribution{PutDistribution: &edgelabv1.Distribution{Id: "d"}}}}}}}
	}
	steps := []struct {
		name    string
		msg     *edgelabv1.StreamResponse
		failOn  int64
		wantAck string // "ok", "nack", "resync", "none"
		wantRev int64
	}{
		{"snapshot", snap(5), 0, "ok", 5},
		{"same snapshot again is not re-applied", snap(5), 0, "ok", 5},
		{"older snapshot ignored", snap(3), 0, "none", 5},
		{"delta in order", delta(5, 7), 0, "ok", 7},
		{"delta gap", delta(8, 9), 0, "resync", 7},
		{"deltas ignored while awaiting snapshot", delta(7, 9), 0, "none", 7},
		{"resync snapshot", snap(9), 0, "ok", 9},
		{"nack keeps state", delta(9, 10), 10, "nack", 9},
		{"chain continues after nack", delta(10, 11), 0, "ok", 11},
	}
	for _, st := range steps {
		failOn = st.failOn
		ack := c.handle(ctx, st.msg)
		got := "none"
		switch {
		case ack == nil:
		case ack.Resync:
			got = "resync"
		case ack.Ok:
			got = "ok"
		default:
			got = "nack"
		}
		if got != st.wantAck || c.Revision() != st.wantRev {
			t.Fatalf("%s: ack %s rev %d, want %s rev %d", st.name, got, c.Revision(), st.wantAck, st.wantRev)
		}
	}
	want := []int64{5, 7, 9, 11}
	if h := c.History(); len(h) != len(want) || h[0] != 5 || h[3] != 11 {
		t.Fatalf("history %v, want %v", h, want)
	}
	if len(applied) != len(want) {
		t.Fatalf("Apply called for %v, want %v", applied, want)
	}
}

// TestAcksOnlyWhatIsOnDisk: a revision the client cannot persist is
// NACKed (and not counted applied); the next one that persists is acked.
func TestAcksOnlyWhatIsOnDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	c, err := New(Config{DialOptions: plaintext(), NodeID: "n", Endpoints: []string{"x"}, Applier: noop, StateDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	snap := func(rev int64) *edgelabv1.StreamResponse {
		return &edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Snapshot{Snapshot: &edgelabv1.Snapshot{Revision: rev,
			Distributions: []*edgelabv1.Distribution{{Id: fmt.Sprint("d", rev)}}}}}
	}
	if ack := c.handle(ctx, snap(5)); !ack.GetOk() {
		t.Fatalf("ack %v", ack)
	}
	// The state dir becomes a file: nothing can be written there.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ack := c.handle(ctx, snap(6))
	if ack.GetOk() || !strings.Contains(ack.GetError(), "not persisted") || c.Revision() != 5 {
		t.Fatalf("unpersisted revision: ack %v, revision %d", ack, c.Revision())
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if ack := c.handle(ctx, snap(7)); !ack.GetOk() || c.Revision() != 7 {
		t.Fatalf("after the disk is back: ack %v, revision %d", ack, c.Revision())
	}
	if s, err := LoadState(dir); err != nil || s.Revision != 7 || s.Distributions[0].Id != "d7" {
		t.Fatalf("on disk: %v, %v", s, err)
	}
}

// TestUpgradeKeepsLegacyState: a node upgraded over a state.pb boots from
// it and keeps it in the new format.
func TestUpgradeKeepsLegacyState(t *testing.T) {
	dir := t.TempDir()
	old := &edgelabv1.Snapshot{Revision: 9, Distributions: []*edgelabv1.Distribution{{Id: "d"}},
		Functions: []*edgelabv1.FunctionVersion{{Name: "f", Version: 1, Sha256: "s"}}}
	data, err := proto.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, statelog.LegacyFileName), data, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{DialOptions: plaintext(), NodeID: "n", Endpoints: []string{"x"}, Applier: noop, StateDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if c.boot == nil || !proto.Equal(c.boot.Snapshot(), old) {
		t.Fatalf("boot state %v", c.boot)
	}
	if _, err := os.Stat(filepath.Join(dir, statelog.LegacyFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state.pb kept after the upgrade: %v", err)
	}
	if s, err := LoadState(dir); err != nil || !proto.Equal(s, old) {
		t.Fatalf("new format holds %v, %v", s, err)
	}
}

// changeRecorder is a ChangeApplier that records what each call changed
// and fails on demand.
type changeRecorder struct {
	ApplierFunc
	fail    bool
	changed [][]string
}

func (r *changeRecorder) ApplyChanges(_ context.Context, _ *desired.State, c desired.Changed, _ []*edgelabv1.Invalidation) error {
	var names []string
	for _, k := range c.Functions() {
		names = append(names, k.String())
	}
	names = append(names, c.Distributions()...)
	r.changed = append(r.changed, names)
	if r.fail {
		return errors.New("boom")
	}
	return nil
}

// TestChangeApplierGetsChangesSinceLastSuccess: the node is handed what a
// delta changed; after a NACK, the next revision carries the NACKed changes too.
func TestChangeApplierGetsChangesSinceLastSuccess(t *testing.T) {
	rec := &changeRecorder{ApplierFunc: noop}
	c, err := New(Config{DialOptions: plaintext(), NodeID: "n", Endpoints: []string{"x"}, Applier: rec, StateDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	put := func(prev, rev int64, fn string) *edgelabv1.StreamResponse {
		return &edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Delta{Delta: &edgelabv1.Delta{PrevRevision: prev, Revision: rev,
			Changes: []*edgelabv1.Change{{Change: &edgelabv1.Change_PutFunction{PutFunction: &edgelabv1.FunctionVersion{Name: fn, Version: 1}}}}}}}
	}
	c.handle(ctx, &edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Snapshot{Snapshot: &edgelabv1.Snapshot{Revision: 1,
		Distributions: []*edgelabv1.Distribution{{Id: "d"}}}}})
	c.handle(ctx, put(1, 2, "a"))
	rec.fail = true
	if ack := c.handle(ctx, put(2, 3, "b")); ack.GetOk() {
		t.Fatal("failed apply acked")
	}
	rec.fail = false
	if ack := c.handle(ctx, put(3, 4, "c")); !ack.GetOk() {
		t.Fatalf("ack %v", ack)
	}
	want := [][]string{{"d"}, {"a:1"}, {"b:1"}, {"b:1", "c:1"}}
	if fmt.Sprint(rec.changed) != fmt.Sprint(want) {
		t.Fatalf("changes handed over %v, want %v", rec.changed, want)
	}
	if s, err := LoadState(c.cfg.StateDir); err != nil || s.Revision != 4 || len(s.Functions) != 3 {
		t.Fatalf("on disk: %v, %v", s, err)
	}
}

// plaintext dials the tests' in-process servers, which serve without TLS.
func plaintext() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
}
