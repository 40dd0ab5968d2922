// Package origin is edgelab's sample origin server for the lab and tests.
//
// Routes (every response carries X-Origin-Id):
//
//	GET  /objects/<size>[?cc=<cache-control>]   <size> bytes ("1024", "4k", "1m"); Cache-Control from cc
//	GET  /static/<path>                          content with Cache-Control chosen by extension
//	GET  /gen/<path>                             a generated HTML page (no-cache unless ?cc=)
//	ANY  /echo[/...]                             JSON of method, path, query, headers, body
//	ANY  /status/<code>                          answers that status
//	GET  /api/<path>                             small JSON (max-age=60) naming the X-User the edge forwarded
//	POST /_admin/faults                          JSON Fault: {"path","latency","errorRate","status","outage","resetBody"}
//	GET  /_admin/faults                          the active faults
//	DELETE /_admin/faults[?path=P]               heal all faults (or the one for P)
//	GET  /_admin/receipts                        the requests received with X-Edgelab-Chaos-Id (ReceiptLog)
//	DELETE /_admin/receipts                      forget them
//	GET  /_admin/requests[?path=PREFIX]          the last 1000 requests (time, method, URI, Via), oldest first, and their count
//	DELETE /_admin/requests                      forget them
//
// The /_admin/ routes are behind internal/adminauth: a cross-site request
// (Sec-Fetch-Site or Origin naming another site) gets 403, a POST or PUT
// that is not application/json 415, and when a token is configured
// (Config.AdminToken; the origin binary's --admin-token-file or
// EDGELAB_ADMIN_TOKEN) a request without "Authorization: Bearer TOKEN" 401.
//
// Every content response also carries X-Origin-Time, when it was produced:
// a cached copy keeps it, so the chaos freshness check can tell when the
// object behind a Hit was fetched. A request carrying X-Edgelab-Chaos-Id (or a
// body of Content-Type text/x-edgelab-chaos-id, which edges do forward) is
// recorded on arrival, before any fault acts, so the chaos at-most-once
// check can count how often one viewer POST reached an origin.
//
// A fault applies to requests whose path starts with its path ("" = all);
// the longest matching prefix wins. outage closes the connection without an
// answer; errorRate answers status (default 503) with that probability;
// latency delays the answer; resetBody sends half the body then resets.
//
// With Config.S3Buckets (origin --s3-buckets) the content routes give way
// to S3 mode (s3.go): the origin answers as an S3 endpoint for those
// buckets, for distributions' S3 origins. The admin routes stay.
package origin
