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
// Lifecycle: New (dials or starts etcd, binds listeners, so Addr is known) ->
// Run(ctx) (serves until ctx is done) -> Close (stops everything New started;
// idempotent). Two Servers in one process share nothing but etcd.
package controlplane
