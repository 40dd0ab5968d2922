package statelog

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/desired"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// magic opens every state.log.
const magic = "EDGELOG\x01"

// Record kinds.
const (
	kindBase     byte = 1 // uvarint function count, then Snapshot without functions
	kindFunction byte = 2 // one FunctionVersion of the base
	kindDelta    byte = 3 // one later revision's changes
)

// headerLen is a record's length and checksum.
const headerLen = 8

// maxRecord bounds one record (a corrupt length must not allocate gigabytes).
const maxRecord = 1 << 30

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errTorn marks the end of the valid log: a short, oversized or corrupt record.
var errTorn = errors.New("torn or corrupt record")

// appendRecord appends one framed record of kind with payload to buf.
func appendRecord(buf []byte, kind byte, payload []byte) []byte {
	var h [headerLen]byte
	binary.LittleEndian.PutUint32(h[:4], uint32(1+len(payload)))
	crc := crc32.Update(crc32.Update(0, castagnoli, []byte{kind}), castagnoli, payload)
	binary.LittleEndian.PutUint32(h[4:], crc)
	buf = append(buf, h[:]...)
	buf = append(buf, kind)
	return append(buf, payload...)
}

// readRecord reads one record; io.EOF at a clean end, errTorn for a short
// or corrupt one.
func readRecord(r *bufio.Reader) (kind byte, payload []byte, err error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, io.EOF
		}
		return 0, nil, errTorn
	}
	n := binary.LittleEndian.Uint32(h[:4])
	if n == 0 || n > maxRecord {
		return 0, nil, errTorn
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, errTorn
	}
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(h[4:]) {
		return 0, nil, errTorn
	}
	return body[0], body[1:], nil
}

// decoded is what a state.log holds.
type decoded struct {
	state *desired.State
	// end is the offset just past the last whole revision; baseEnd past the base.
	end, baseEnd int64
	// torn is set when bytes after end were dropped.
	torn bool
}

// decode reads a state.log. The base must be whole (it was renamed in
// whole); the deltas after it are read up to the first torn record or the
// first that does not follow.
func decode(r io.Reader) (decoded, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var m [len(magic)]byte
	if _, err := io.ReadFull(br, m[:]); err != nil || string(m[:]) != magic {
		return decoded{}, fmt.Errorf("not a state log (bad magic)")
	}
	st, off, err := decodeBase(br)
	if err != nil {
		return decoded{}, err
	}
	out := decoded{state: st, end: off, baseEnd: off}
	for {
		kind, payload, err := readRecord(br)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		d := &edgelabv1.Delta{}
		if err != nil || kind != kindDelta || proto.Unmarshal(payload, d) != nil {
			out.torn = true
			return out, nil
		}
		if _, _, err := st.ApplyDelta(d); err != nil {
			out.torn = true
			return out, nil
		}
		out.end += headerLen + 1 + int64(len(payload))
	}
}

func decodeBase(br *bufio.Reader) (*desired.State, int64, error) {
	kind, payload, err := readRecord(br)
	if err != nil || kind != kindBase {
		return nil, 0, fmt.Errorf("state log: unreadable base")
	}
	off := int64(len(magic)) + headerLen + 1 + int64(len(payload))
	n, w := binary.Uvarint(payload)
	snap := &edgelabv1.Snapshot{}
	if w <= 0 || proto.Unmarshal(payload[w:], snap) != nil || snap.GetRevision() <= 0 {
		return nil, 0, fmt.Errorf("state log: undecodable base")
	}
	for i := uint64(0); i < n; i++ {
		kind, payload, err := readRecord(br)
		fv := &edgelabv1.FunctionVersion{}
		if err != nil || kind != kindFunction || proto.Unmarshal(payload, fv) != nil {
			return nil, 0, fmt.Errorf("state log: base truncated at function %d of %d", i, n)
		}
		snap.Functions = append(snap.Functions, fv)
		off += headerLen + 1 + int64(len(payload))
	}
	st, err := desired.FromSnapshot(snap)
	if err != nil {
		return nil, 0, fmt.Errorf("state log: %w", err)
	}
	return st, off, nil
}
