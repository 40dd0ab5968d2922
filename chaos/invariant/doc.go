// Package invariant holds the chaos invariant checkers: pure functions from
// recorded histories (package history) to a Result. They never talk to the
// network and never sleep, so each is unit-tested with hand-written good and
// bad histories.
//
//	no-lost-requests   NoLostRequests   no viewer request failed while a healthy path existed
//	converge           Converge         every live node reached the latest revision within a bound
//	monotonic-versions Monotonic        per node, served versions and applied revisions never go back
//	durable-acks       DurableAcks      every acknowledged write is in etcd and on every live node
//	mixed-versions     MixedVersions    more than one version was served during a window
//	single-version     SingleVersion    one version only was served after a time
package invariant
