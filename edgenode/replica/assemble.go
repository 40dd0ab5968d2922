package replica

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// errChunkSequence marks a malformed chunk sequence; the stream is dropped
// and the node resumes from its revision on a new one.
var errChunkSequence = errors.New("malformed chunk sequence")

// assembler rebuilds an update the control plane sent in Chunks (one above
// the node's message limit) into the StreamResponse it came from, holding a
// Snapshot or a Delta. Nothing is handed on until the last piece arrived, so
// only complete revisions are applied. It belongs to one session goroutine.
//
//	Chunk{rev, total, offset 0} ... Chunk{offset n, last} --> []byte --> StreamResponse{Snapshot|Delta}
type assembler struct {
	// max bounds the size of a whole update.
	max   int64
	rev   int64
	total int64
	buf   []byte
}

// pending reports whether part of an update has arrived.
func (a *assembler) pending() bool { return a.total > 0 }

// reset drops a partial update.
func (a *assembler) reset() { a.rev, a.total, a.buf = 0, 0, nil }

// add takes the next piece. It returns the whole update after the last
// piece, nil before it, and an error (the partial update dropped) when the
// pieces do not follow each other or the update is larger than max.
func (a *assembler) add(c *edgelabv1.Chunk) (*edgelabv1.StreamResponse, error) {
	if err := a.accept(c); err != nil {
		a.reset()
		return nil, err
	}
	a.buf = append(a.buf, c.Data...)
	if !c.Last {
		if int64(len(a.buf)) >= a.total {
			a.reset()
			return nil, fmt.Errorf("revision %d: %d bytes received and no last piece: %w", c.Revision, c.TotalBytes, errChunkSequence)
		}
		return nil, nil
	}
	defer a.reset()
	if int64(len(a.buf)) != a.total {
		return nil, fmt.Errorf("revision %d: last piece at %d of %d bytes: %w", c.Revision, len(a.buf), a.total, errChunkSequence)
	}
	m := &edgelabv1.StreamResponse{}
	if err := proto.Unmarshal(a.buf, m); err != nil {
		return nil, fmt.Errorf("decoding chunked revision %d: %w", c.Revision, err)
	}
	rev := m.GetSnapshot().GetRevision()
	if m.GetDelta() != nil {
		rev = m.GetDelta().GetRevision()
	}
	if (m.GetSnapshot() == nil && m.GetDelta() == nil) || rev != c.Revision {
		return nil, fmt.Errorf("chunked revision %d holds no snapshot or delta of that revision: %w", c.Revision, errChunkSequence)
	}
	return m, nil
}

// accept checks that c continues the update in progress (or starts one).
func (a *assembler) accept(c *edgelabv1.Chunk) error {
	if !a.pending() {
		switch {
		case c.TotalBytes <= 0 || c.Offset != 0:
			return fmt.Errorf("revision %d: first piece at offset %d of %d bytes: %w", c.Revision, c.Offset, c.TotalBytes, errChunkSequence)
		case c.TotalBytes > a.max:
			return fmt.Errorf("revision %d is %d bytes, above this node's update limit of %d bytes", c.Revision, c.TotalBytes, a.max)
		}
		a.rev, a.total = c.Revision, c.TotalBytes
		a.buf = make([]byte, 0, c.TotalBytes)
		return nil
	}
	switch {
	case c.Revision != a.rev || c.TotalBytes != a.total:
		return fmt.Errorf("piece of revision %d (%d bytes) inside revision %d (%d bytes): %w", c.Revision, c.TotalBytes, a.rev, a.total, errChunkSequence)
	case c.Offset != int64(len(a.buf)):
		return fmt.Errorf("revision %d: piece at offset %d, expected %d: %w", c.Revision, c.Offset, len(a.buf), errChunkSequence)
	case int64(len(a.buf)+len(c.Data)) > a.total:
		return fmt.Errorf("revision %d: pieces exceed the announced %d bytes: %w", c.Revision, a.total, errChunkSequence)
	}
	return nil
}
