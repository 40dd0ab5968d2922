package sandbox

import (
	"bufio"
	"encoding/binary"
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

// frameReader reads length-prefixed edgelabv1.WorkerFrame messages
// (4-byte big-endian length, then the marshalled frame). Not safe for
// concurrent use.
type frameReader struct {
	r   *bufio.Reader
	buf []byte
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// read returns the next frame, io.EOF at a clean end of stream.
func (fr *frameReader) read() (*edgelabv1.WorkerFrame, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(fr.r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxFrameBytes {
		return nil, fmt.Errorf("frame of %d bytes exceeds the %d-byte limit", n, maxFrameBytes)
	}
	if cap(fr.buf) < int(n) {
		fr.buf = make([]byte, n)
	}
	b := fr.buf[:n]
	if _, err := io.ReadFull(fr.r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("reading frame body: %w", err)
	}
	f := &edgelabv1.WorkerFrame{}
	if err := proto.Unmarshal(b, f); err != nil {
		return nil, fmt.Errorf("decoding frame: %w", err)
	}
	return f, nil
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
		return fmt.Errorf("frame of %d bytes exceeds the %d-byte limit", len(b)-4, maxFrameBytes)
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
