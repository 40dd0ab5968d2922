// Package replica is the edge node's side of replication: a Client that keeps
// one stream open to some control-plane replica, applies the snapshot and the
// ordered deltas it receives through an Applier, ACKs or NACKs each revision,
// and persists the last applied state so the node can serve from it after a
// restart before any control plane is reachable (static stability).
//
//	New(cfg) -- loads StateDir/state.pb (corrupt => ignored)
//	Run(ctx):
//	  Apply(disk state) at once
//	  loop over Endpoints (backoff + jitter):
//	    Hello{last_revision} -> Snapshot | Delta{prev == ours} ... -> Apply -> persist -> Ack
//	                          Delta{prev != ours}          -> Ack{resync} -> Snapshot
//	                          Apply error                  -> Nack, keep previous state
//
// Invariants: applied revisions strictly increase; a revision is applied at
// most once; the node never moves to an older revision.
package replica
