// Package lab assembles the all-in-one edge network that `edgelab up` runs
// in one process: an embedded etcd, control-plane replicas, sample origins,
// edge nodes in several regions of a topology, the viewer gateway, and a
// sample distribution with example functions, deployed before Start returns.
//
//	viewer ──> gateway ──nearest healthy──> edge (region A) ──> origin web / web-b
//	                                       edge (region B)        ▲
//	                                       ...                    │ origin groups
//	edgectl ──gRPC──> control plane cp1, cp2 ──etcd (embedded)    │
//	                      │  replication streams (delay model)    │
//	                      └──────────────> every edge ────────────┘
//
// Every component runs with its own listener on loopback; a Lab owns all of
// them and Close stops them all (sandbox worker processes included). The Lab
// also acts as the process-level fault injector for chaos scenarios (stop,
// start, pause, partition of nodes and control-plane replicas).
package lab
