// Package replica is the edge node's side of replication: a Client that keeps
// one stream open to some control-plane replica, folds the snapshot and the
// ordered deltas it receives into one desired.State, hands each revision to
// an Applier (by change when it is a ChangeApplier, as the edge node is),
// persists it by change in StateDir (edgenode/statelog) and only then ACKs
// it (or NACKs it), so the node can serve from it after a restart before any
// control plane is reachable (static stability).
//
//	New(cfg) -- loads StateDir (state.log, or the old state.pb; corrupt => ignored)
//	Run(ctx):
//	  Apply(disk state) at once
//	  loop over Endpoints (backoff + jitter):
//	    Hello{last_revision} -> Snapshot | Delta{prev == ours} ... -> ApplyChanges -> append to state.log (one fsync) -> Ack
//	                          Snapshot                     -> ApplyChanges(diff) -> new base in state.log -> Ack
//	                          Delta{prev != ours}          -> Ack{resync} -> Snapshot
//	                          Apply error                  -> Nack, keep previous state
//	                          persist error                -> Nack (serving it; the next save rewrites the whole state)
//
// Invariants: applied revisions strictly increase; a revision is applied at
// most once; the node never moves to an older revision; an acked revision
// is on disk.
package replica
