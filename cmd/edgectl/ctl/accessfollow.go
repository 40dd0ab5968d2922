package ctl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// followEvery is how often --follow looks for new access log lines.
const followEvery = 250 * time.Millisecond

// followAccessLogs prints the entry lines appended to paths after offs
// (one offset per path), looking every interval, until ctx is done. A file
// that appears later is read from its start; one that shrank (rotated) is
// read again from its start.
func followAccessLogs(ctx context.Context, w io.Writer, paths []string, offs []int64, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for i, p := range paths {
			n, err := copyNewLines(w, p, offs[i])
			if err != nil {
				return err
			}
			offs[i] = n
		}
	}
}

// copyNewLines writes the whole entry lines of file p after offset off
// (header lines left out) and returns the offset after the last one.
func copyNewLines(w io.Writer, p string, off int64) (int64, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return off, nil // not written yet
	}
	if err != nil {
		return off, fmt.Errorf("following access log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return off, fmt.Errorf("following access log: %w", err)
	}
	if st.Size() < off {
		off = 0 // rotated or truncated
	}
	if st.Size() == off {
		return off, nil
	}
	data, err := io.ReadAll(io.NewSectionReader(f, off, st.Size()-off))
	if err != nil {
		return off, fmt.Errorf("following access log %s: %w", p, err)
	}
	data = data[:bytes.LastIndexByte(data, '\n')+1] // a line being written waits
	for line := range bytes.Lines(data) {
		if line[0] == '#' {
			continue
		}
		if _, err := w.Write(line); err != nil {
			return off, fmt.Errorf("writing access log: %w", err)
		}
	}
	return off + int64(len(data)), nil
}
