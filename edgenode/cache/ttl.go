package cache

import (
	"net/http"
	"time"

	"github.com/pquerna/cachecontrol/cacheobject"
)

// Policy is the TTL part of a cache policy (reference section 8).
type Policy struct {
	// MinTTL is the floor; when it is 0 no-store, no-cache and private are
	// honoured (the object is not cached).
	MinTTL time.Duration
	// DefaultTTL applies when the origin sends no max-age, s-maxage or Expires.
	DefaultTTL time.Duration
	// MaxTTL is the ceiling.
	MaxTTL time.Duration
}

// DefaultPolicy is CloudFront's: min 0, default 1 day, max 1 year.
func DefaultPolicy() Policy {
	return Policy{MinTTL: 0, DefaultTTL: 24 * time.Hour, MaxTTL: 365 * 24 * time.Hour}
}

// DefaultErrorTTL is how long error responses (4xx/5xx) are cached by default.
const DefaultErrorTTL = 10 * time.Second

// cacheableStatus lists the non-error statuses CloudFront caches with the
// policy's TTLs.
func cacheableStatus(status int) bool {
	switch status {
	case 200, 203, 204, 300, 301, 302, 307, 308:
		return true
	}
	return false
}

// cacheableErrorStatus lists the error statuses CloudFront caches for the
// error-caching TTL.
func cacheableErrorStatus(status int) bool {
	switch status {
	case 400, 403, 404, 405, 410, 414, 416, 500, 501, 502, 503, 504:
		return true
	}
	return false
}

// TTL decides whether a response may be cached and for how long.
//
//   - error statuses (400, 403, 404, 405, 410, 414, 416, 500-504) get errorTTL
//     (0 disables error caching);
//   - other statuses outside 200/203/204/300/301/302/307/308 are not cached;
//   - with MinTTL == 0, Cache-Control no-store, no-cache or private => not cached;
//   - s-maxage, else max-age, else Expires (relative to Date, or now), clamped
//     to [MinTTL, MaxTTL];
//   - none of those: DefaultTTL, raised to MinTTL, capped at MaxTTL.
//
// An unparsable Cache-Control is treated as absent.
func TTL(p Policy, status int, h http.Header, now time.Time, errorTTL time.Duration) (time.Duration, bool) {
	if cacheableErrorStatus(status) {
		return errorTTL, errorTTL > 0
	}
	if !cacheableStatus(status) {
		return 0, false
	}
	var (
		ttl    time.Duration
		hasTTL bool
	)
	if cc := h.Get("Cache-Control"); cc != "" {
		if d, err := cacheobject.ParseResponseCacheControl(cc); err == nil {
			if p.MinTTL == 0 && (d.NoStore || d.NoCachePresent || d.PrivatePresent) {
				return 0, false
			}
			switch {
			case d.SMaxAge >= 0:
				ttl, hasTTL = time.Duration(d.SMaxAge)*time.Second, true
			case d.MaxAge >= 0:
				ttl, hasTTL = time.Duration(d.MaxAge)*time.Second, true
			}
		}
	}
	if !hasTTL {
		if exp := h.Get("Expires"); exp != "" {
			base := now
			if date, err := http.ParseTime(h.Get("Date")); err == nil {
				base = date
			}
			if t, err := http.ParseTime(exp); err == nil {
				ttl, hasTTL = t.Sub(base), true
			} else {
				// An invalid Expires ("0", "-1") means already expired.
				ttl, hasTTL = 0, true
			}
			if ttl < 0 {
				ttl = 0
			}
		}
	}
	if !hasTTL {
		ttl = p.DefaultTTL
	}
	if ttl < p.MinTTL {
		ttl = p.MinTTL
	}
	if p.MaxTTL > 0 && ttl > p.MaxTTL {
		ttl = p.MaxTTL
	}
	return ttl, ttl > 0
}
