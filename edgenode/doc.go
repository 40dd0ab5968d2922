// Package edgenode is the edge location: a caching reverse proxy for
// distributions that runs function versions at the four CloudFront trigger
// points through a sandbox.Runner.
//
//	viewer ──> limits (414 / 494 / 501) ──> distribution by Host ──> behavior by path
//	   │
//	   ├─ viewer-request ──generated──> viewer (not cached, no viewer-response)
//	   │
//	   ├─ cache lookup (GET/HEAD) ──hit──> viewer-response ──> viewer
//	   │
//	   └─ miss (collapsed per key) ──> origin-request ──generated──> cache ──> viewer-response
//	                                     │
//	                                     └─> origin / origin group (failover on error,
//	                                         timeout or configured status; GET/HEAD/OPTIONS)
//	                                           ──> origin-response (all statuses)
//	                                           ──> cache store (TTL clamp) ──> viewer-response
//	                                               (skipped for status >= 400)
//
// The desired state arrives by change through (*Node).ApplyChanges, which
// the replication client (edgenode/replica) calls with its desired.State and
// what changed since the last successful call: the node compiles only the
// changed distributions and those using a changed function version (every
// other compiled distribution is shared with the previous state), loads the
// changed versions into its runner first, refuses the revision (the client
// NACKs) if one fails, then swaps the serving state atomically and unloads
// versions no longer referenced once the old state drains. (*Node).Apply
// takes a whole Snapshot (diffed against the served state, then the same).
// LoadFiles builds a snapshot from local files for use without a control
// plane.
//
// Every response carries X-Cache ("Hit", "Miss", "RefreshHit" (an expired
// object revalidated with its ETag/Last-Modified and a 304), "Error",
// "LambdaGeneratedResponse", "LambdaValidationError",
// "LambdaExecutionError", "LambdaLimitExceeded", each " from edgelab"), Via,
// X-Edgelab-Pop, X-Edgelab-Node, X-Edgelab-Request-Id and, when functions
// ran, X-Edgelab-Functions. Stale objects served because the origin failed
// say Hit and carry a Warning: 110 header.
//
// Viewers are served by an HTTP/1.1 front end on fasthttp (viewer.go): the
// request is converted once into the *http.Request the pipeline reads and
// the reply is written straight out, without net/http's per-request
// bookkeeping (see docs/performance.md). ServeHTTP serves the same pipeline
// to embedders. The front end keeps HTTP semantics where fasthttp differs:
// the raw request URI is parsed as net/http does (no path cleaning), header
// names are canonical and repeated headers keep every value, bodies beyond
// 64 KiB stream. One deviation: the Date header is the node's, not the
// cached response's (Age still says how old the object is).
//
// Choices where CloudFront is ambiguous: oversized request headers get 494
// (CloudFront's answer) up to MaxHeaderBytes+MaxURIBytes+4 KiB and 431 from
// the front end beyond;
// unknown methods get 501; methods a behavior does not allow get 403; an
// unknown Host gets 403. A HEAD miss is fetched from the origin as GET so
// GET and HEAD share one cached object. No Accept-Encoding is forwarded, and
// viewer conditional headers are not forwarded on cacheable fetches.
// With an origin group, origin-request runs once per attempt and
// origin-response once, on the final answer.
package edgenode
