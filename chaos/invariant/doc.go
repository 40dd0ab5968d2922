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
//	fresh-after-invalidation Fresh      no Hit of an object fetched before an invalidation the node applied
//	ack-implies-durable AckImpliesDurable a node comes back at a revision >= the last one it acked
//	failover-bound     FailoverBound    a dead edge leaves rotation within a bound; retries stay bounded
//	at-most-once       AtMostOnce       a POST/PUT reaches the origin at most once
//	nacked-never-served NackedNeverServed a version the nodes reject is never served nor applied
//	rec-failover       RECFailover      PoPs move to another REC while theirs is down, and come back
//	rec-slowed         RECSlowed        a REC's injected tier latency shows in every answer it gave meanwhile
package invariant
