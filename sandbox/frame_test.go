package sandbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

func TestFrameRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := newFrameWriter(&buf)
	frames := []*edgelabv1.WorkerFrame{
		{Id: 1, Msg: &edgelabv1.WorkerFrame_Invoke{Invoke: &edgelabv1.WorkerInvoke{Request: &edgelabv1.HttpRequest{Uri: "/x"}}}},
		{Id: 2},
		{Id: 3, Msg: &edgelabv1.WorkerFrame_InvokeResult{InvokeResult: &edgelabv1.WorkerInvokeResult{Error: strings.Repeat("e", 100000)}}},
	}
	for _, f := range frames {
		if err := w.write(f, 0); err != nil {
			t.Fatal(err)
		}
	}
	r := newFrameReader(&buf)
	for _, want := range frames {
		got, err := r.read()
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("got %v want %v", got, want)
		}
	}
	if _, err := r.read(); !errors.Is(err, io.EOF) {
		t.Fatalf("end: %v", err)
	}
}

func TestFrameReadHostile(t *testing.T) {
	huge := make([]byte, 4)
	binary.BigEndian.PutUint32(huge, maxFrameBytes+1)
	short := []byte{0, 0, 0, 10, 1, 2}
	garbage := []byte{0, 0, 0, 3, 0xff, 0xff, 0xff}
	tests := []struct {
		name string
		in   []byte
	}{
		{"oversized length", huge},
		{"truncated body", short},
		{"garbage body", garbage},
		{"truncated length", []byte{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newFrameReader(bytes.NewReader(tt.in)).read()
			if err == nil || errors.Is(err, io.EOF) {
				t.Fatalf("err = %v, want a stream error", err)
			}
		})
	}
}

func TestParseStatusBytes(t *testing.T) {
	tests := []struct {
		in   string
		key  string
		want int64
		ok   bool
	}{
		{"Name:\tx\nVmRSS:\t  12345 kB\nRssAnon:\t 100 kB\nThreads: 3\n", "VmRSS", 12345 << 10, true},
		{"Name:\tx\nVmRSS:\t  12345 kB\nRssAnon:\t 100 kB\nThreads: 3\n", "RssAnon", 100 << 10, true},
		{"Name:\tx\n", "VmRSS", 0, false},
		{"VmRSS:\t12 MB\n", "VmRSS", 0, false},
		{"VmRSS:\t-5 kB\n", "VmRSS", 0, false},
		{"VmRSS:\tzz kB\n", "VmRSS", 0, false},
		{"VmRSS:\n", "VmRSS", 0, false},
	}
	for _, tt := range tests {
		got, err := parseStatusBytes([]byte(tt.in), tt.key)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseStatusBytes(%q, %s) = %d, %v", tt.in, tt.key, got, err)
		}
	}
}

func TestTailBufferFatalLine(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   []string
	}{
		{"crash in head", []string{"noise\nruntime: goroutine stack exceeds 16777216-byte limit\n",
			"fatal error: stack overflow\n" + strings.Repeat("frame\n", 100)},
			[]string{"stack exceeds", "fatal error: stack overflow"}},
		{"crash in tail", []string{strings.Repeat("noise\n", 100), "fatal error: out of memory\n"},
			[]string{"fatal error: out of memory"}},
		{"nothing", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &tailBuffer{max: 128}
			for _, w := range tt.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			got := b.fatalLine()
			if len(tt.want) == 0 && got != "" {
				t.Fatalf("fatalLine = %q, want none", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("fatalLine = %q, missing %q", got, w)
				}
			}
		})
	}
}

// flakyReader returns one byte per Read and an error every other call, as a
// connection with read deadlines firing mid-frame does.
type flakyReader struct {
	data []byte
	n    int
}

var errFlaky = errors.New("deadline")

func (r *flakyReader) Read(p []byte) (int, error) {
	r.n++
	if r.n%2 == 0 {
		return 0, errFlaky
	}
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	p[0] = r.data[0]
	r.data = r.data[1:]
	return 1, nil
}

func TestFrameReadResumes(t *testing.T) {
	var buf bytes.Buffer
	w := newFrameWriter(&buf)
	want := []*edgelabv1.WorkerFrame{{Id: 7, Msg: &edgelabv1.WorkerFrame_Invoke{Invoke: &edgelabv1.WorkerInvoke{Request: &edgelabv1.HttpRequest{Uri: "/resume"}}}}, {Id: 8}}
	for _, f := range want {
		if err := w.write(f, 0); err != nil {
			t.Fatal(err)
		}
	}
	r := newFrameReader(&flakyReader{data: buf.Bytes()})
	var got []*edgelabv1.WorkerFrame
	for range 10000 {
		f, err := r.read()
		if errors.Is(err, errFlaky) {
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d frames, want %d", len(got), len(want))
	}
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Errorf("frame %d: got %v want %v", i, got[i], want[i])
		}
	}
}

// socketPair returns both ends of a connected unix stream socket pair as
// net.Conns (what startProc uses).
func socketPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var conns [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "pair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns[i] = c
	}
	return conns[0], conns[1]
}

// TestRawSocketIO: frames cross a socket pair through the raw-syscall
// reader and writer, including a frame larger than the socket buffer
// (the writer falls back to waiting), a read deadline that passes with
// nothing to read, and a clean end of stream.
func TestRawSocketIO(t *testing.T) {
	a, b := socketPair(t)
	w, r := newFrameWriter(a), newFrameReader(b)
	if _, ok := r.r.(rawReader); !ok {
		t.Fatalf("frame reader on a socket uses %T, want rawReader", r.r)
	}
	if w.raw == nil {
		t.Fatal("frame writer on a socket has no raw conn")
	}

	// Nothing to read: the deadline ends the wait with the usual error.
	_ = b.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := r.read(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read with nothing sent = %v, want a deadline error", err)
	}
	_ = b.SetReadDeadline(time.Time{})

	big := strings.Repeat("x", 4<<20) // far more than a socket buffer
	errc := make(chan error, 1)
	go func() {
		for i, id := range []uint64{1, 2} {
			f := &edgelabv1.WorkerFrame{Id: id, Msg: &edgelabv1.WorkerFrame_LoadResult{LoadResult: &edgelabv1.WorkerLoadResult{Error: big[:len(big)/(i+1)]}}}
			if err := w.write(f, 10*time.Second); err != nil {
				errc <- err
				return
			}
		}
		errc <- a.Close()
	}()
	for i, id := range []uint64{1, 2} {
		f, err := r.read()
		if err != nil {
			t.Fatalf("frame %d: %v", id, err)
		}
		if f.GetId() != id || f.GetLoadResult().GetError() != big[:len(big)/(i+1)] {
			t.Fatalf("frame %d: got id %d with %d bytes", id, f.GetId(), len(f.GetLoadResult().GetError()))
		}
	}
	if _, err := r.read(); !errors.Is(err, io.EOF) {
		t.Fatalf("read after the peer closed = %v, want io.EOF", err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
