// Package pacing holds one node's outgoing updates until their modelled
// delivery time: the topology's delay model (latency(home -> region) x scale
// + jitter + staged-rollout delay, see package topology) plus any chaos
// replication delay, in order (an update never overtakes an earlier one).
//
//	hub delta/snapshot --Push(changed)--> Queue [eligible = changed + model + extra]
//	                                        |  Due(now): the head, once eligible
//	                                        v
//	                                      stream Send
//
// A Queue belongs to one stream goroutine and is not safe for concurrent use.
package pacing
