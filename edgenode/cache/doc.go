// Package cache is the edge node's object cache: CloudFront cache keys,
// TTL clamping (min/default/max against max-age, s-maxage and Expires),
// a byte-bounded LRU that keeps expired objects for stale-on-error, and
// invalidation by CloudFront path pattern.
//
// A Cache is safe for concurrent use. Collapsing concurrent misses is the
// caller's job (the edge node wraps lookups in a singleflight.Group) because
// the fetch it collapses runs trigger functions the cache knows nothing about.
package cache
