// Package controlplane is edgelab's control plane: a stateless gRPC API
// (ControlPlaneService: functions, versions, distributions, invalidations,
// invoke; status, nodes and logs come from the Replicator) over etcd, which
// holds all durable state. Any number of replicas can serve one etcd: every
// write is an etcd transaction (see package store), so no leader is needed.
//
//	edgectl --gRPC--> Server --validate--> sandbox.ValidateSource (static)
//	                    |                  Checker (compile in a worker process)
//	                    |                  distribution.Validate + version checks
//	                    +--txn--> store.Store --> etcd (embedded or external)
//	                    +--> /metrics (per-server Prometheus registry)
//
// Replication (docs/ARCHITECTURE.md, "Replication"): the Replicator's hub
// follows etcd, one stream goroutine per node runs the protocol
// (replication_stream.go), package replication/pacing paces it, package
// replication/fault holds the chaos faults on the channel, and
// replication_send.go bounds every message by the node's announced limit.
//
// Lifecycle: New (dials or starts etcd, binds listeners, so Addr is known) ->
// Run(ctx) (serves until ctx is done) -> Close (stops everything New started;
// idempotent). Two Servers in one process share nothing but etcd.
package controlplane
