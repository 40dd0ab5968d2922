// Package edgenode is the edge location: a caching reverse proxy for
// distributions that runs function versions at the four CloudFront trigger
// points through a sandbox.Runner.
//
// A viewer request is parsed once, by either front end, into the one
// edge.Request every stage reads (request.go), and one transaction (txn,
// txn.go) carries it through named stages, each in its own file:
//
//	fasthttp front end (viewer.go) ─┐
//	net/http adapter (servehttp.go) ┴─> parse: edge.Request, Host, limits' sizes
//	  ──> route (route.go): health, 414 / 494 / 501, distribution by Host,
//	      behavior by path, methods (403)
//	  ──> access checks (geo.go, signed.go): geo restriction, signed URLs
//	      and cookies (403), at the PoP only
//	  ──> viewer-request (viewerreq.go) ──generated──> write (not cached,
//	      no viewer-response)
//	  ──> cache lookup (lookup.go) ──hit──────────────────────┐
//	      └─miss, collapsed per key (GET/HEAD) ──> miss (miss.go)
//	           └─> upstream (upstream.go): a PoP's RECs, a REC's shield
//	                 (tierupstream.go), else or when none answers the
//	                 origin side, per attempt of the origin / origin group:
//	                   origin-request (originreq.go) ──generated──> store
//	                   origin fetch (origin.go; failover on error, timeout
//	                     or configured status; GET/HEAD/OPTIONS)
//	                 origin-response (originresp.go, on the final answer)
//	           <── answer: cacheable / use the stale copy / 304 refresh
//	      ──> store (store.go, TTL clamp) ─────────────────────┤
//	  ──> viewer-response (viewerresp.go; skipped for >= 400) <┘
//	  ──> write + count (write.go, viewer.go writeFast)
//
// Every trigger stage runs its function through invoke (trigger.go): the
// transaction's edge.Info (filled once, in route), the result rules
// applied once (by the runner when it validates, sandbox.ValidatesResults,
// else there), metrics and logs. Headers functions may not see are dropped
// in the parse stage and go neither to a function nor to the origin; the
// fetch stage builds the one outbound header copy per attempt. The
// upstream interface is where the second tier sits (tier.go): a PoP's miss
// goes to its REC, a REC's to its shield or the origin. With Config.Latency
// each hop the node makes (to a REC or shield, to an origin) first waits the
// latency model's round trip between the two regions, and so does each
// edge.Fetch of its functions (package latency).
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
// request is parsed from fasthttp's buffers straight into the stages'
// representation and the reply is written straight out, without net/http's
// per-request bookkeeping; a cache hit with no function allocates a
// handful of objects (BenchmarkHitNoFunction/direct). ServeHTTP feeds the
// same stages to embedders. The front end keeps HTTP semantics where fasthttp differs:
// the raw request URI is parsed as net/http does (no path cleaning), header
// names are canonical and repeated headers keep every value, bodies beyond
// 64 KiB stream. One deviation: the Date header is the node's, not the
// cached response's (Age still says how old the object is).
//
// The front end enforces the listener limits (docs/ARCHITECTURE.md,
// "Viewer listener limits"): a header timeout (408) and an idle timeout,
// MaxHeaderCount (431), MaxBodyBytes (413), and 400 for ambiguous framing
// (Content-Length with Transfer-Encoding), malformed chunked bodies and
// header names or values net/http would not send on; none of these reach
// the origin as a complete request.
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
