// Package distribution is the distribution file (YAML or JSON) as users
// write it, its structural validation, and CloudFront path-pattern
// matching. It converts between the file and edgelabv1.Distribution, the
// only form stored and replicated:
//
//	demo.yaml --Parse--> *edgelabv1.Distribution --ToFile--> YAML
//	                         |
//	                     Validate (structure only; whether referenced
//	                     function versions exist is the control plane's check)
//
// Parse is strict: an unknown field is an error naming it, and only
// numbered function versions can be associated ("$LATEST" is rejected).
// When a behavior has no cache section, CloudFront's defaults apply
// (min 0s, default 24h, max 8760h) and CachePolicy.Set is false.
// See docs/distribution.md for an annotated example.
package distribution
