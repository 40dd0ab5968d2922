package sandbox

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// maxFrameBytes bounds one IPC frame (a 1 MB body plus headers fits many
// times over); a larger length prefix is treated as a corrupt stream.
const maxFrameBytes = 64 << 20

// errFrameTooLarge: a frame to send is over maxFrameBytes.
var errFrameTooLarge = errors.New("frame too large")

// frameReader reads length-prefixed edgelabv1.WorkerFrame messages
// (4-byte big-endian length, then the marshalled frame). It is resumable:
// a read interrupted by an error (a read deadline) keeps the bytes it got,
// and the next read continues the same frame. Not safe for concurrent use.
type frameReader struct {
	r          io.Reader
	buf        []byte
	start, end int // buf[start:end] is received, unconsumed data
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: r, buf: make([]byte, 64<<10)}
}

// read returns the next frame, io.EOF at a clean end of stream.
func (fr *frameReader) read() (*edgelabv1.WorkerFrame, error) {
	for {
		if have := fr.end - fr.start; have >= 4 {
			n := int(binary.BigEndian.Uint32(fr.buf[fr.start:]))
			if n > maxFrameBytes {
				return nil, fmt.Errorf("frame of %d bytes exceeds the %d-byte limit", n, maxFrameBytes)
			}
			if have >= 4+n {
				b := fr.buf[fr.start+4 : fr.start+4+n]
				fr.start += 4 + n
				if fr.start == fr.end {
					fr.start, fr.end = 0, 0
				}
				f := &edgelabv1.WorkerFrame{}
				if err := proto.Unmarshal(b, f); err != nil {
					return nil, fmt.Errorf("decoding frame: %w", err)
				}
				return f, nil
			}
			fr.ensure(4 + n)
		} else {
			fr.ensure(4)
		}
		m, err := fr.r.Read(fr.buf[fr.end:])
		fr.end += m
		if err != nil {
			if errors.Is(err, io.EOF) && fr.end != fr.start {
				return nil, fmt.Errorf("reading frame: %w", io.ErrUnexpectedEOF)
			}
			return nil, err
		}
	}
}

// ensure makes room for a frame of need bytes starting at start.
func (fr *frameReader) ensure(need int) {
	if fr.start+need <= len(fr.buf) && fr.end < len(fr.buf) {
		return
	}
	if need > len(fr.buf) {
		nb := make([]byte, max(need, 2*len(fr.buf)))
		fr.end = copy(nb, fr.buf[fr.start:fr.end])
		fr.buf, fr.start = nb, 0
		return
	}
	fr.end = copy(fr.buf, fr.buf[fr.start:fr.end])
	fr.start = 0
}

// frameWriter writes length-prefixed frames; safe for concurrent use.
type frameWriter struct {
	mu  sync.Mutex
	w   *bufio.Writer
	dl  deadliner // nil when the writer has no deadlines
	buf []byte
}

// deadliner is the part of net.Conn that bounds a blocked write.
type deadliner interface{ SetWriteDeadline(time.Time) error }

func newFrameWriter(w io.Writer) *frameWriter {
	fw := &frameWriter{w: bufio.NewWriterSize(w, 64<<10)}
	fw.dl, _ = w.(deadliner)
	return fw
}

// write sends one frame. limit > 0 bounds the time blocked on a peer that
// does not read (a paused worker); zero waits as long as it takes.
func (fw *frameWriter) write(f *edgelabv1.WorkerFrame, limit time.Duration) error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.dl != nil && limit > 0 {
		_ = fw.dl.SetWriteDeadline(time.Now().Add(limit))
		defer fw.dl.SetWriteDeadline(time.Time{})
	}
	b, err := proto.MarshalOptions{}.MarshalAppend(append(fw.buf[:0], 0, 0, 0, 0), f)
	if err != nil {
		return fmt.Errorf("encoding frame: %w", err)
	}
	fw.buf = b
	if len(b)-4 > maxFrameBytes {
		fw.buf = nil // do not keep a huge buffer
		return fmt.Errorf("%w: %d bytes, limit %d", errFrameTooLarge, len(b)-4, maxFrameBytes)
	}
	binary.BigEndian.PutUint32(b[:4], uint32(len(b)-4))
	if _, err := fw.w.Write(b); err != nil {
		return fmt.Errorf("writing frame: %w", err)
	}
	if err := fw.w.Flush(); err != nil {
		return fmt.Errorf("writing frame: %w", err)
	}
	return nil
}
