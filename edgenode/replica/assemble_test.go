package replica

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// split cuts the encoding of m into chunks of at most piece bytes.
func split(t *testing.T, m *edgelabv1.StreamResponse, rev int64, piece int) []*edgelabv1.Chunk {
	t.Helper()
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out []*edgelabv1.Chunk
	for off := 0; off < len(data); off += piece {
		end := min(off+piece, len(data))
		out = append(out, &edgelabv1.Chunk{Revision: rev, TotalBytes: int64(len(data)), Offset: int64(off), Data: data[off:end], Last: end == len(data)})
	}
	return out
}

func bigDelta(rev int64) *edgelabv1.StreamResponse {
	fv := &edgelabv1.FunctionVersion{Name: "f", Version: 1, Files: []*edgelabv1.SourceFile{{Name: "f.go", Content: bytes.Repeat([]byte("y"), 10_000)}}}
	return &edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Delta{Delta: &edgelabv1.Delta{Revision: rev, PrevRevision: rev - 1,
		Changes: []*edgelabv1.Change{{Change: &edgelabv1.Change_PutFunction{PutFunction: fv}}}}}}
}

func TestAssemblerRebuildsTheUpdate(t *testing.T) {
	a := &assembler{max: 1 << 20}
	want := bigDelta(5)
	chunks := split(t, want, 5, 1000)
	for i, c := range chunks {
		got, err := a.add(c)
		if err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		if last := i == len(chunks)-1; (got != nil) != last {
			t.Fatalf("chunk %d of %d returned %v", i, len(chunks), got != nil)
		} else if last && !proto.Equal(got, want) {
			t.Fatal("reassembled update differs from the one sent")
		}
	}
	if a.pending() {
		t.Fatal("assembler still pending after the last chunk")
	}
	// The next update starts afresh.
	if _, err := a.add(split(t, bigDelta(6), 6, 1000)[0]); err != nil || !a.pending() {
		t.Fatalf("second update: %v, pending %v", err, a.pending())
	}
}

func TestAssemblerRejectsHostileSequences(t *testing.T) {
	good := split(t, bigDelta(5), 5, 1000)
	other := split(t, bigDelta(6), 6, 1000)
	ping := split(t, &edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Ping{Ping: &edgelabv1.Ping{ServerId: "x"}}}, 5, 1000)
	mod := func(c *edgelabv1.Chunk, f func(*edgelabv1.Chunk)) *edgelabv1.Chunk {
		c = proto.Clone(c).(*edgelabv1.Chunk)
		f(c)
		return c
	}
	tests := []struct {
		name     string
		max      int64
		chunks   []*edgelabv1.Chunk
		sequence bool // the error is a malformed sequence (else: a size or decode error)
	}{
		{"first piece not at offset 0", 1 << 20, []*edgelabv1.Chunk{good[1]}, true},
		{"no total", 1 << 20, []*edgelabv1.Chunk{mod(good[0], func(c *edgelabv1.Chunk) { c.TotalBytes = 0 })}, true},
		{"above the update limit", 5000, []*edgelabv1.Chunk{good[0]}, false},
		{"gap", 1 << 20, []*edgelabv1.Chunk{good[0], good[2]}, true},
		{"repeated piece", 1 << 20, []*edgelabv1.Chunk{good[0], good[0]}, true},
		{"other revision inside", 1 << 20, []*edgelabv1.Chunk{good[0], other[1]}, true},
		{"total changes", 1 << 20, []*edgelabv1.Chunk{good[0], mod(good[1], func(c *edgelabv1.Chunk) { c.TotalBytes++ })}, true},
		{"more data than announced", 1 << 20, []*edgelabv1.Chunk{mod(good[0], func(c *edgelabv1.Chunk) { c.TotalBytes = 10 })}, true},
		{"last too early", 1 << 20, []*edgelabv1.Chunk{mod(good[0], func(c *edgelabv1.Chunk) { c.Last = true })}, true},
		{"all data, no last", 1 << 20, append(good[:len(good)-1:len(good)-1], mod(good[len(good)-1], func(c *edgelabv1.Chunk) { c.Last = false })), true},
		{"revision differs from the update's", 1 << 20, split(t, bigDelta(5), 4, 1000), true},
		{"not a snapshot or delta", 1 << 20, ping, true},
		{"garbage", 1 << 20, []*edgelabv1.Chunk{{Revision: 5, TotalBytes: 3, Data: []byte{0xff, 0xff, 0xff}, Last: true}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &assembler{max: tt.max}
			var err error
			for _, c := range tt.chunks {
				var got *edgelabv1.StreamResponse
				if got, err = a.add(c); err != nil {
					break
				}
				if got != nil {
					t.Fatalf("hostile sequence produced an update: %v", got)
				}
			}
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, errChunkSequence) != tt.sequence {
				t.Fatalf("error %v: sequence error %v, want %v", err, errors.Is(err, errChunkSequence), tt.sequence)
			}
			if a.pending() {
				t.Fatal("a failed update stays pending")
			}
		})
	}
}

func TestReassembleRejectsWholeMessageMidUpdate(t *testing.T) {
	c := &Client{}
	a := &assembler{max: 1 << 20}
	chunks := split(t, bigDelta(5), 5, 1000)
	if m, err := c.reassemble(a, &edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Chunk{Chunk: chunks[0]}}); m != nil || err != nil {
		t.Fatalf("first chunk: %v %v", m, err)
	}
	ping := &edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Ping{Ping: &edgelabv1.Ping{}}}
	if _, err := c.reassemble(a, ping); !errors.Is(err, errChunkSequence) {
		t.Fatalf("ping inside a chunked update: %v, want a sequence error", err)
	}
	if m, err := c.reassemble(a, ping); m != ping || err != nil {
		t.Fatalf("ping after the reset: %v %v, want it passed through", m, err)
	}
}
