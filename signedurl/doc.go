// Package signedurl is CloudFront's signed URLs and signed cookies: the
// policy statement (canned or custom), its RSA signature, the URL-safe
// base64 CloudFront uses, signing (edgectl sign-url, sign-cookies) and
// verification (the edge node, for behaviors with trusted key groups).
//
// A canned policy is rebuilt by the verifier from the request URL and the
// Expires value; a custom policy travels base64-encoded in Policy (or the
// CloudFront-Policy cookie). Either way the signature is RSA PKCS #1 v1.5
// over the policy JSON bytes, with SHA-1 unless Hash-Algorithm=SHA256:
//
//	policy := signedurl.Canned("http://d.test/a.jpg", expires)
//	url, _ := signer.CannedURL("http://d.test/a.jpg", expires)
//	err := verifier.Verify(creds, "http://d.test/a.jpg", clientIP, now)
//
// Verify's errors are *Error values carrying the code and message
// CloudFront answers with (MissingKey, InvalidKey, MalformedSignature,
// MalformedPolicy, AccessDenied). Parsing is strict and bounded: one
// statement, the documented field names exactly, integer epoch times, a
// CIDR source address, at most MaxPolicyBytes of JSON.
package signedurl
