package distribution

import edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"

// Match reports whether path matches a CloudFront path pattern. Matching is
// case-sensitive; '*' matches any run of characters including '/', '?'
// exactly one character; "default" matches every path. It runs in
// O(len(pattern)*len(path)) time, with no backtracking blow-up.
func Match(pattern, path string) bool {
	if pattern == DefaultPath {
		return true
	}
	p, s := 0, 0
	star, mark := -1, 0
	for s < len(path) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == path[s]):
			p++
			s++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, s
			p++
		case star >= 0:
			p = star + 1
			mark++
			s = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// SelectBehavior returns the first behavior of d whose path pattern matches
// path (first match wins, the "default" behavior matches everything), or nil
// when d has no matching behavior.
func SelectBehavior(d *edgelabv1.Distribution, path string) *edgelabv1.Behavior {
	for _, b := range d.GetBehaviors() {
		if Match(b.GetPath(), path) {
			return b
		}
	}
	return nil
}

// InvalidationPattern is the behavior-style pattern an invalidation path
// stands for: CloudFront lets users write invalidation paths without the
// leading '/' ("images/*" is "/images/*"). Match it with Match.
func InvalidationPattern(path string) string {
	if len(path) > 0 && path[0] != '/' && path[0] != '*' && path != DefaultPath {
		return "/" + path
	}
	return path
}

// MatchInvalidation reports whether a cached object's path is covered by an
// invalidation path ("*" and "/*" cover every path). Callers matching many
// paths against one invalidation take InvalidationPattern once instead.
func MatchInvalidation(pattern, path string) bool {
	return Match(InvalidationPattern(pattern), path)
}
