// Package examples holds the workshop functions (reference section 10), one
// Go package per directory. Each is a complete edge function: it passes
// sandbox.ValidateSource, runs unchanged in the edgelab sandbox, and has a
// native unit test written with edge/edgetest. The lab and the golden tests
// load them from here.
//
//	jwt-auth            viewer-request   HS256 bearer token check, 403 when invalid
//	ab-testing          viewer-request   sticky A/B group by cookie, random split
//	override-header     viewer-response  copy an origin metadata header, set Server
//	static-content      viewer-request   a page generated at the edge
//	redirect            viewer-request   301 for moved paths, 302 for short links
//	query-to-header     viewer-request   query parameters to request headers
//	normalize-query     viewer-request   lowercase and sort the query string
//	signin-redirect     viewer-request   302 to /signin without a session cookie
//	redirect-by-country origin-request   302 by CloudFront-Viewer-Country
//	device-content      origin-request   URI prefix by device type headers
//	switch-origin       origin-request   choose the origin with ?origin=
//	s3-origin           origin-request   /media/ from an S3 origin instead of the custom one
//	origin-error        origin-response  5xx -> friendly 200 page or 302
//	form-body           viewer-request   read and replace a form body (include-body)
//	security-headers    origin-response and viewer-response: HSTS, CSP, ...
//
// Run through a real edge node and sandbox against the sample origin, with
// the documented behaviour asserted: jwt-auth, ab-testing, redirect,
// static-content, signin-redirect, redirect-by-country, device-content,
// origin-error, security-headers, normalize-query, query-to-header,
// form-body, override-header (edgenode/testdata/golden/example-*.txtar) and
// s3-origin (edgenode TestExampleS3OriginThroughNode, against the origin's
// S3 mode).
package examples
