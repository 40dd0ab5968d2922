package cache

import (
	"net/http"
	"testing"
	"time"
)

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
