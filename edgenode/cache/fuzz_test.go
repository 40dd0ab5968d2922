package cache

import (
	"net/http"
	"testing"
	"time"
)

func FuzzMatchPath(f *testing.F) {
	for _, s := range [][2]string{{"/images/*", "/images/a.png"}, {"*a*b?c", "/xaybzc"}, {"default", "/"}, {"", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		if len(pattern) > 200 || len(path) > 2000 {
			return
		}
		got := MatchPath(pattern, path)
		// A pattern without wildcards matches only itself (with the leading slash rule).
		if !containsAny(pattern, "*?") && pattern != "default" && pattern != "" {
			p := pattern
			if p[0] != '/' {
				p = "/" + p
			}
			if got != (p == path) {
				t.Fatalf("MatchPath(%q, %q) = %v", pattern, path, got)
			}
		}
	})
}

func containsAny(s, chars string) bool {
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(chars); j++ {
			if s[i] == chars[j] {
				return true
			}
		}
	}
	return false
}

func FuzzTTL(f *testing.F) {
	for _, s := range []string{"max-age=60", "no-store", "s-maxage=1, max-age=2", `private="x", max-age=-1`, "max-age=99999999999999999999"} {
		f.Add(s, "Wed, 21 Oct 2015 07:28:00 GMT")
	}
	p := Policy{MinTTL: time.Second, DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour}
	f.Fuzz(func(t *testing.T, cc, expires string) {
		h := http.Header{"Cache-Control": {cc}, "Expires": {expires}}
		ttl, ok := TTL(p, 200, h, time.Unix(1_700_000_000, 0), DefaultErrorTTL)
		if ok && (ttl < p.MinTTL || ttl > p.MaxTTL) {
			t.Fatalf("ttl %v outside [%v, %v] for %q / %q", ttl, p.MinTTL, p.MaxTTL, cc, expires)
		}
	})
}
