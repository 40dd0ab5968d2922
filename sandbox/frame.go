package sandbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"google.golang.org/protobuf/proto"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// maxFrameBytes bounds one IPC frame (a 1 MB body plus headers fits many
// times over); a larger length prefix is treated as a corrupt stream.
const maxFrameBytes = 64 << 20

// errFrameTooLarge: a frame to send, or a received length prefix, is over
// maxFrameBytes.
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
	if sc, ok := r.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			r = rawReader{rc}
		}
	}
	return &frameReader{r: r, buf: make([]byte, 64<<10)}
}

// rawReader reads a socket (non-blocking, as every net.Conn's is) with raw
// system calls. Such a read never blocks in the kernel, so it can skip the
// runtime's system-call bookkeeping (entersyscall/exitsyscall). That
// bookkeeping also wakes the runtime's sysmon thread when it sleeps, and a
// sysmon woken that way polls every 20 us for the next millisecond: a
// worker that idles between batches of invocations paid that after every
// batch. Raw reads and writes cut the worker's futex calls, sleeps and
// context switches per request several-fold (make bench's A/B mode shows
// the node's throughput gain). EAGAIN parks the goroutine on the runtime poller
// exactly as net.Conn.Read does, read deadlines included. (A worker needs
// a timer to keep sysmon from sleeping through a looping handler: see
// startSysmonHeartbeat.)
type rawReader struct{ rc syscall.RawConn }

func (r rawReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := r.rc.Read(func(fd uintptr) bool {
		for {
			r1, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			switch e {
			case 0:
				n, errno = int(r1), 0
				return true
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait for readability on the poller
			default:
				n, errno = 0, e
				return true
			}
		}
	})
	if err != nil {
		return 0, err // closed, or the read deadline passed
	}
	if errno != 0 {
		return 0, os.NewSyscallError("read", errno)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// read returns the next frame decoded by proto, io.EOF at a clean end of
// stream.
func (fr *frameReader) read() (*edgelabv1.WorkerFrame, error) {
	b, err := fr.next()
	if err != nil {
		return nil, err
	}
	f := &edgelabv1.WorkerFrame{}
	if err := proto.Unmarshal(b, f); err != nil {
		return nil, fmt.Errorf("decoding frame: %w", err)
	}
	return f, nil
}

// readFrame returns the next frame decoded by the IPC codec (wire.go),
// io.EOF at a clean end of stream.
func (fr *frameReader) readFrame() (*frame, error) {
	b, err := fr.next()
	if err != nil {
		return nil, err
	}
	f, err := decodeFrame(b)
	if err != nil {
		return nil, fmt.Errorf("decoding frame: %w", err)
	}
	return f, nil
}

// next returns the next frame's bytes, valid until the next call.
func (fr *frameReader) next() ([]byte, error) {
	for {
		if have := fr.end - fr.start; have >= 4 {
			n := int(binary.BigEndian.Uint32(fr.buf[fr.start:]))
			if n > maxFrameBytes {
				return nil, fmt.Errorf("frame of %d bytes exceeds the %d-byte limit: %w", n, maxFrameBytes, errFrameTooLarge)
			}
			if have >= 4+n {
				b := fr.buf[fr.start+4 : fr.start+4+n]
				fr.start += 4 + n
				if fr.start == fr.end {
					fr.start, fr.end = 0, 0
				}
				return b, nil
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

// buffered reports whether a whole frame is already buffered (next
// returns it without reading).
func (fr *frameReader) buffered() bool {
	have := fr.end - fr.start
	return have >= 4 && have >= 4+int(binary.BigEndian.Uint32(fr.buf[fr.start:]))
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
//
// Writers combine: a frame is encoded into a shared pending buffer, and the
// writer that finds no write in progress becomes the flusher, writing the
// whole pending buffer in one syscall and looping until nothing is pending
// (frames other writers queued meanwhile go out in the next syscall).
// Under load one write and one peer wake-up carry many frames; with a
// single caller it is one write per frame, as before. A writer whose frame
// was queued behind a flush in progress returns before its bytes reach the
// socket; a failed write is sticky, so later writes report it, and the
// caller of the failed flush (who then kills the peer) reports it too.
type frameWriter struct {
	w   io.Writer
	dl  deadliner       // nil when the writer has no deadlines
	raw syscall.RawConn // nil unless w is a socket; for the raw, non-blocking first try

	mu       sync.Mutex
	pending  []byte // encoded frames not yet handed to w
	spare    []byte // the previous flush's buffer, reused
	flushing bool
	err      error // sticky: the stream is broken after a failed write
}

// deadliner is the part of net.Conn that bounds a blocked write.
type deadliner interface{ SetWriteDeadline(time.Time) error }

// maxSpareBytes bounds the buffer a writer keeps between flushes.
const maxSpareBytes = 1 << 20

func newFrameWriter(w io.Writer) *frameWriter {
	fw := &frameWriter{w: w}
	fw.dl, _ = w.(deadliner)
	if sc, ok := w.(syscall.Conn); ok {
		fw.raw, _ = sc.SyscallConn()
	}
	return fw
}

// tryWrite writes what the socket takes without blocking and returns how
// much it wrote; the caller writes the rest (and sees any error) through
// the blocking path. It saves setting and clearing the write deadline
// (two poller updates) when the socket has room, the common case, and
// writes with a raw system call (see rawReader).
func (fw *frameWriter) tryWrite(b []byte) int {
	n := 0
	_ = fw.raw.Write(func(fd uintptr) bool {
		for n < len(b) {
			// A raw call: see rawReader for why.
			r1, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[n])), uintptr(len(b)-n))
			if e == syscall.EINTR {
				continue
			}
			if e != 0 || int(r1) <= 0 {
				break // EAGAIN or an error: the blocking path waits or reports it
			}
			n += int(r1)
		}
		return true // never wait here
	})
	return n
}

// write sends one frame. limit > 0 bounds the time a flush blocks on a
// peer that does not read (a paused worker); zero waits as long as it
// takes.
func (fw *frameWriter) write(f *edgelabv1.WorkerFrame, limit time.Duration) error {
	return fw.send(protoFrame{f}, f.GetId(), limit, false)
}

// send is write for any outFrame, sent with the given id. gather says
// that other senders are likely to have frames ready soon (calls in
// flight): a writer that becomes the flusher then yields the processor
// once before writing, so runnable senders queue their frames into the
// same write: fewer, larger writes under load. A lone caller does not
// yield (it would only add latency).
func (fw *frameWriter) send(m outFrame, id uint64, limit time.Duration, gather bool) error {
	fw.mu.Lock()
	if fw.err != nil {
		err := fw.err
		fw.mu.Unlock()
		return err
	}
	start := len(fw.pending)
	b, err := m.appendFrame(append(fw.pending, 0, 0, 0, 0), id)
	if err != nil {
		fw.pending = fw.pending[:start]
		fw.mu.Unlock()
		return fmt.Errorf("encoding frame: %w", err)
	}
	if n := len(b) - start - 4; n > maxFrameBytes {
		if start == 0 {
			b = nil // do not keep a huge buffer
		}
		fw.pending = b[:start]
		fw.mu.Unlock()
		return fmt.Errorf("%w: %d bytes, limit %d", errFrameTooLarge, n, maxFrameBytes)
	}
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	fw.pending = b
	if fw.flushing {
		fw.mu.Unlock() // the flush in progress sends it next
		return nil
	}
	fw.flushing = true
	if gather {
		fw.mu.Unlock()
		runtime.Gosched()
		fw.mu.Lock()
	}
	for {
		out := fw.pending
		fw.pending = fw.spare[:0]
		fw.spare = nil
		fw.mu.Unlock()
		var err error
		n := 0
		if fw.raw != nil {
			n = fw.tryWrite(out)
		}
		switch {
		case n == len(out):
		case fw.dl != nil && limit > 0:
			_ = fw.dl.SetWriteDeadline(time.Now().Add(limit))
			_, err = fw.w.Write(out[n:])
			_ = fw.dl.SetWriteDeadline(time.Time{})
		default:
			_, err = fw.w.Write(out[n:])
		}
		fw.mu.Lock()
		if cap(out) <= maxSpareBytes {
			fw.spare = out[:0]
		}
		if err != nil {
			err = fmt.Errorf("writing frame: %w", err)
			fw.err = err
			fw.pending = nil
			fw.flushing = false
			fw.mu.Unlock()
			return err
		}
		if len(fw.pending) == 0 {
			fw.flushing = false
			fw.mu.Unlock()
			return nil
		}
	}
}
