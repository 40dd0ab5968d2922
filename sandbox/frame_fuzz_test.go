package sandbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"testing"
	"testing/iotest"
	"time"

	"github.com/edgelab/edgelab/edge"
)

// The sandbox wire's fuzz targets: the frame codec (wire.go) and the
// length-prefixed stream (frame.go). Seeds beside the ones added here are
// in testdata/fuzz/<FuzzName>/.

// FuzzDecodeFrame: any bytes either are refused with errBadFrame or
// decode to a frame; an invoke or result frame re-encodes to bytes that
// decode to the same frame.
func FuzzDecodeFrame(f *testing.F) {
	for _, b := range hostileFrames() {
		f.Add(b)
	}
	for _, r := range wireRequests() {
		b, _ := (&invokeMsg{event: edge.ViewerRequest, req: r, resp: wireResponses()["typical"], timeout: time.Second}).appendFrame(nil, 3)
		f.Add(b)
		b, _ = (&resultMsg{req: r, logs: []LogLine{{Message: "m"}}}).appendFrame(nil, 4)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decodeFrame(b)
		if err != nil {
			if !errors.Is(err, errBadFrame) {
				t.Fatalf("decode error is not errBadFrame: %v", err)
			}
			return
		}
		// What decodes re-encodes and decodes to the same thing.
		var again []byte
		switch {
		case fr.invoke != nil:
			again, err = fr.invoke.appendFrame(nil, fr.id)
		case fr.result != nil:
			again, err = fr.result.appendFrame(nil, fr.id)
		default:
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		fr2, err := decodeFrame(again)
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		if !reflect.DeepEqual(fr, fr2) {
			t.Fatalf("not stable:\n%+v\n%+v", fr, fr2)
		}
	})
}

// FuzzFrameRead: a frameReader splits any byte stream into the frames its
// length prefixes say, refuses a prefix over maxFrameBytes and a stream
// that ends inside a frame, and does so the same whether the bytes come
// at once, one at a time, or between read errors it resumes after (a
// read deadline).
func FuzzFrameRead(f *testing.F) {
	f.Add([]byte{0, 0, 0, 2, 8, 1})
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0, 0, 0, 1, 8, 0, 0, 0, 3, 8, 1})
	f.Add(binary.BigEndian.AppendUint32(nil, maxFrameBytes+1))
	f.Fuzz(func(t *testing.T, b []byte) {
		want, wantErr := splitFrames(b)
		for name, r := range map[string]io.Reader{
			"whole":       bytes.NewReader(b),
			"byte a time": iotest.OneByteReader(bytes.NewReader(b)),
			"with errors": &flakyReader{data: b},
		} {
			got, err := readFrames(newFrameReader(r))
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: frames %q, want %q", name, got, want)
			}
			if (err == nil) != (wantErr == nil) || (wantErr != nil && !errors.Is(err, wantErr)) {
				t.Fatalf("%s: end %v, want %v", name, err, wantErr)
			}
		}
	})
}

// splitFrames is the reference reading of a frame stream: its frames and
// how it ends (nil: cleanly; io.ErrUnexpectedEOF inside a frame;
// errFrameTooLarge at an oversized prefix).
func splitFrames(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			return out, io.ErrUnexpectedEOF
		}
		n := binary.BigEndian.Uint32(b)
		if n > maxFrameBytes {
			return out, errFrameTooLarge
		}
		if len(b) < 4+int(n) {
			return out, io.ErrUnexpectedEOF
		}
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	return out, nil
}

// readFrames reads frames until the stream ends, retrying after
// errFlaky (frame_test.go) as a worker retries after a read deadline.
func readFrames(fr *frameReader) ([][]byte, error) {
	var out [][]byte
	for {
		b, err := fr.next()
		switch {
		case errors.Is(err, errFlaky):
			continue
		case errors.Is(err, io.EOF):
			return out, nil
		case err != nil:
			return out, err
		}
		out = append(out, bytes.Clone(b))
	}
}
