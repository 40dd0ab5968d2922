// Package statelog persists an edge node's desired state by change: one
// append-only file, state.log, that holds a base (the whole state at one
// revision) followed by one record per later revision with only what that
// revision changed. Saving a revision appends one record and fsyncs the
// file once; nothing else is synced. When the records since the base
// outweigh the base (and at least 1 MiB), the next save writes a new base
// instead: a temporary file, fsynced, renamed over state.log, then the
// directory fsynced (one file fsync and one directory fsync for that
// revision). The cost of a save is what the revision changed, amortised:
// a base of B bytes is written at most once per B bytes appended.
//
//	state.log = magic "EDGELOG\x01"
//	            base:    record(kind 1: uvarint n, Snapshot{revision, distributions})
//	                     n x record(kind 2: FunctionVersion)
//	            then:    record(kind 3: Delta{revision, prev_revision, changes}) ...
//	record    = uint32 LE length of kind+payload | uint32 LE CRC-32C of kind+payload | kind | payload
//
// A crash at any point leaves the old or the new revision, never a mix: a
// base is only seen once renamed in whole, and a revision's delta is one
// record, which a torn write leaves short or with a bad checksum, so
// loading stops before it (and Load truncates the torn tail before
// appending again). A delta whose prev_revision is not the revision loaded
// so far also ends the log.
//
// The previous format, one state.pb holding a whole Snapshot, is still
// read: Load migrates it to state.log once (then removes it). While a
// state.pb is present it is what the directory holds (it is removed only
// after the state.log that replaces it is in place).
//
// A Log is not safe for concurrent use; the replica client owns it.
package statelog
