package statelog

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/desired"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// File names inside the state directory.
const (
	// FileName is the state log.
	FileName = "state.log"
	// LegacyFileName is the previous format: one whole Snapshot.
	LegacyFileName = "state.pb"
	tmpPrefix      = FileName + ".tmp-"
)

// minCompact is how many bytes of deltas a log gathers at least before the
// next save writes a new base.
const minCompact = 1 << 20

// Stats counts what a Log did since Open.
type Stats struct {
	// BytesWritten is every byte handed to write(2), temporary files included.
	BytesWritten int64
	// FileSyncs and DirSyncs count fsync calls on files and on the directory.
	FileSyncs, DirSyncs int64
	// Bases counts bases written (compactions and migrations).
	Bases int64
}

// Log is a state directory's log. Not safe for concurrent use.
type Log struct {
	dir string
	f   *os.File // state.log open for appending; nil until loaded or a base is written
	// rev is the revision on disk; size and baseSize the file's and its base's bytes.
	rev, size, baseSize int64
	stats               Stats
	// crash, when set (tests only), is called before every step of a write
	// ("create", "write", "sync", "rename", "remove", "syncdir", "truncate").
	crash func(step string)
}

// Open prepares dir (creating it) and removes temporary files a crash left.
// It reads nothing: call Load, or Save to start afresh.
func Open(dir string) (*Log, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("statelog: creating %s: %w", dir, err)
	}
	tmps, err := filepath.Glob(filepath.Join(dir, tmpPrefix+"*"))
	if err != nil {
		return nil, fmt.Errorf("statelog: listing %s: %w", dir, err)
	}
	for _, t := range tmps {
		if err := os.Remove(t); err != nil {
			return nil, fmt.Errorf("statelog: removing leftover %s: %w", t, err)
		}
	}
	return &Log{dir: dir}, nil
}

// Stats reports what the log wrote and synced.
func (l *Log) Stats() Stats { return l.stats }

// Revision is the revision on disk (0 before Load or the first Save).
func (l *Log) Revision() int64 { return l.rev }

// Close closes the log file.
func (l *Log) Close() error {
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Read returns the state dir holds without changing anything (for tools
// and a node that only serves what is on disk). The error wraps
// os.ErrNotExist when there is none.
func Read(dir string) (*desired.State, error) {
	if st, err := readLegacy(dir); !errors.Is(err, os.ErrNotExist) {
		return st, err
	}
	d, err := readLog(dir)
	return d.state, err
}

// Load reads the state on disk and makes the log ready to append to it:
// a torn tail is cut off, a legacy state.pb is rewritten as state.log. The
// error wraps os.ErrNotExist when there is no state; after any error the
// next Save writes a new base.
func (l *Log) Load() (*desired.State, error) {
	l.Close()
	l.rev = 0
	st, err := readLegacy(l.dir)
	if !errors.Is(err, os.ErrNotExist) {
		if err != nil {
			return nil, err
		}
		if err := l.writeBase(st); err != nil {
			return nil, fmt.Errorf("statelog: migrating %s: %w", LegacyFileName, err)
		}
		return st, nil
	}
	d, err := readLog(l.dir)
	if err != nil {
		return nil, err
	}
	if err := l.openForAppend(d); err != nil {
		return nil, err
	}
	return d.state, nil
}

func readLegacy(dir string) (*desired.State, error) {
	data, err := os.ReadFile(filepath.Join(dir, LegacyFileName))
	if err != nil {
		return nil, fmt.Errorf("statelog: reading state: %w", err)
	}
	snap := &edgelabv1.Snapshot{}
	if err := proto.Unmarshal(data, snap); err != nil {
		return nil, fmt.Errorf("statelog: decoding %s: %w", LegacyFileName, err)
	}
	if snap.GetRevision() <= 0 {
		return nil, fmt.Errorf("statelog: decoding %s: invalid revision %d", LegacyFileName, snap.GetRevision())
	}
	st, err := desired.FromSnapshot(snap)
	if err != nil {
		return nil, fmt.Errorf("statelog: decoding %s: %w", LegacyFileName, err)
	}
	return st, nil
}

func readLog(dir string) (decoded, error) {
	f, err := os.Open(filepath.Join(dir, FileName))
	if err != nil {
		return decoded{}, fmt.Errorf("statelog: reading state: %w", err)
	}
	defer f.Close()
	d, err := decode(f)
	if err != nil {
		return decoded{}, fmt.Errorf("statelog: %s: %w", FileName, err)
	}
	return d, nil
}

// openForAppend opens state.log after the last whole revision, cutting off
// (durably) a torn tail first.
func (l *Log) openForAppend(d decoded) error {
	f, err := os.OpenFile(filepath.Join(l.dir, FileName), os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("statelog: opening %s: %w", FileName, err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != d.end {
		l.step("truncate")
		if err := f.Truncate(d.end); err != nil {
			f.Close()
			return fmt.Errorf("statelog: cutting torn tail of %s: %w", FileName, err)
		}
		if err := l.sync(f); err != nil {
			f.Close()
			return err
		}
	}
	if _, err := f.Seek(d.end, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("statelog: seeking %s: %w", FileName, err)
	}
	l.f, l.rev, l.size, l.baseSize = f, d.state.Revision(), d.end, d.baseEnd
	return nil
}

// Save makes st, at its revision, the state on disk. changed names what
// differs from the revision on disk (Revision()): the objects the
// revisions since then touched. It appends one delta record and fsyncs the
// file, or writes a new base when the log has none or its deltas outweigh
// its base. When Save fails the disk holds the previous revision or st,
// and the next Save writes a new base.
func (l *Log) Save(st *desired.State, changed desired.Changed) error {
	if st.Revision() <= 0 {
		return fmt.Errorf("statelog: saving revision %d: revisions start at 1", st.Revision())
	}
	if l.f == nil || l.size-l.baseSize > max(l.baseSize, minCompact) {
		return l.writeBase(st)
	}
	d := &edgelabv1.Delta{Revision: st.Revision(), PrevRevision: l.rev, Changes: st.Changes(changed)}
	payload, err := proto.Marshal(d)
	if err != nil {
		return fmt.Errorf("statelog: encoding revision %d: %w", st.Revision(), err)
	}
	rec := appendRecord(make([]byte, 0, headerLen+1+len(payload)), kindDelta, payload)
	if err := l.write(l.f, rec); err != nil {
		l.Close()
		return fmt.Errorf("statelog: appending revision %d: %w", st.Revision(), err)
	}
	if err := l.sync(l.f); err != nil {
		l.Close()
		return fmt.Errorf("statelog: appending revision %d: %w", st.Revision(), err)
	}
	l.rev, l.size = st.Revision(), l.size+int64(len(rec))
	return nil
}

// Replace makes st the state on disk as a whole, whatever the disk held
// (after a snapshot): a new base, one file and one directory fsync.
func (l *Log) Replace(st *desired.State) error {
	if st.Revision() <= 0 {
		return fmt.Errorf("statelog: saving revision %d: revisions start at 1", st.Revision())
	}
	return l.writeBase(st)
}

// writeBase writes st as a new state.log: temporary file, fsync, rename
// over state.log, remove a legacy state.pb, fsync the directory.
func (l *Log) writeBase(st *desired.State) error {
	l.Close()
	l.step("create")
	tmp, err := os.CreateTemp(l.dir, tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("statelog: creating base: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	size, err := l.writeBaseTo(tmp, st)
	if err == nil {
		err = l.sync(tmp)
	}
	if err != nil {
		tmp.Close()
		return fmt.Errorf("statelog: writing base of revision %d: %w", st.Revision(), err)
	}
	l.step("rename")
	if err := os.Rename(tmp.Name(), filepath.Join(l.dir, FileName)); err != nil {
		tmp.Close()
		return fmt.Errorf("statelog: installing base: %w", err)
	}
	l.step("remove")
	if err := os.Remove(filepath.Join(l.dir, LegacyFileName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		tmp.Close()
		return fmt.Errorf("statelog: removing %s: %w", LegacyFileName, err)
	}
	if err := l.syncDir(); err != nil {
		tmp.Close()
		return err
	}
	l.f, l.rev, l.size, l.baseSize = tmp, st.Revision(), size, size
	l.stats.Bases++
	return nil
}

// writeBaseTo writes magic, the base record and one record per function
// version through a buffer, and returns the bytes written.
func (l *Log) writeBaseTo(f *os.File, st *desired.State) (int64, error) {
	cw := &countingWriter{l: l, f: f}
	w := bufio.NewWriterSize(cw, 1<<16)
	snap := st.Snapshot()
	fns := snap.Functions
	snap.Functions = nil
	head, err := proto.Marshal(snap)
	if err != nil {
		return 0, fmt.Errorf("encoding base: %w", err)
	}
	payload := append(binary.AppendUvarint(nil, uint64(len(fns))), head...)
	w.WriteString(magic)
	w.Write(appendRecord(nil, kindBase, payload))
	var rec []byte
	for _, fv := range fns {
		p, err := proto.Marshal(fv)
		if err != nil {
			return 0, fmt.Errorf("encoding %s: %w", desired.KeyOf(fv), err)
		}
		rec = appendRecord(rec[:0], kindFunction, p)
		w.Write(rec)
	}
	if err := w.Flush(); err != nil { // the first write error, if any
		return 0, err
	}
	return cw.n, nil
}

// countingWriter writes through l.write and counts.
type countingWriter struct {
	l *Log
	f *os.File
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if err := c.l.write(c.f, p); err != nil {
		return 0, err
	}
	c.n += int64(len(p))
	return len(p), nil
}

// write writes p whole. With a crash hook it writes in two halves, so a
// crash can land inside a write.
func (l *Log) write(f *os.File, p []byte) error {
	parts := [][]byte{p}
	if l.crash != nil && len(p) > 1 {
		parts = [][]byte{p[:len(p)/2], p[len(p)/2:]}
	}
	for _, part := range parts {
		l.step("write")
		n, err := f.Write(part)
		l.stats.BytesWritten += int64(n)
		if err != nil {
			return fmt.Errorf("writing %s: %w", filepath.Base(f.Name()), err)
		}
	}
	return nil
}

func (l *Log) sync(f *os.File) error {
	l.step("sync")
	l.stats.FileSyncs++
	if err := f.Sync(); err != nil {
		return fmt.Errorf("statelog: syncing %s: %w", filepath.Base(f.Name()), err)
	}
	return nil
}

func (l *Log) syncDir() error {
	l.step("syncdir")
	l.stats.DirSyncs++
	d, err := os.Open(l.dir)
	if err != nil {
		return fmt.Errorf("statelog: opening %s: %w", l.dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("statelog: syncing %s: %w", l.dir, err)
	}
	return nil
}

func (l *Log) step(name string) {
	if l.crash != nil {
		l.crash(name)
	}
}
