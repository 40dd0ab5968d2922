package cache

// MatchPath reports whether path matches a CloudFront path pattern: '*'
// matches any run of characters (including '/'), '?' matches exactly one,
// everything else matches itself, case-sensitively. A pattern without a
// leading '/' is matched as if it had one ("images/*" == "/images/*").
// The pattern "default" and "*" match every path.
//
// It is used for invalidation paths (which CloudFront lets users write
// without the leading '/'); cache behaviors use distribution.Match. It is
// iterative with backtracking on the last '*', so a hostile pattern cannot
// blow the stack or go exponential.
func MatchPath(pattern, path string) bool {
	if pattern == "default" || pattern == "*" || pattern == "/*" {
		return true
	}
	if len(pattern) > 0 && pattern[0] != '/' && pattern[0] != '*' {
		pattern = "/" + pattern
	}
	p, s := 0, 0
	starP, starS := -1, 0
	for s < len(path) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			starP, starS = p, s
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == path[s]):
			p++
			s++
		case starP >= 0:
			starS++
			s = starS
			p = starP + 1
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
