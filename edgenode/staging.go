package edgenode

import (
	"hash/maphash"
	"net/http"
	"strconv"
	"strings"
	"time"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// stagingRoute is a primary distribution's enabled continuous deployment
// policy, compiled: requests go to the staging distribution by header, or
// by weight with an optional sticky session.
type stagingRoute struct {
	stagingID string
	// header (canonical) and value route by header; "" routes by weight.
	header, value string
	weight        float64
	// idle and maxAge are the session stickiness TTLs (0: none).
	idle, maxAge time.Duration
}

// stagingCookie keeps a viewer's weight-routed session on the distribution
// its first request went to: "s" (staging) or "p" (primary), a dot, and
// when the session began (Unix seconds).
const stagingCookie = "edgelab-cd-session"

// xStaging names, on a response the staging distribution served, that
// distribution.
const xStaging = "X-Edgelab-Staging"

// compileStaging compiles cd; nil when it routes nothing (absent, disabled).
func compileStaging(cd *edgelabv1.ContinuousDeployment) *stagingRoute {
	if !cd.GetEnabled() {
		return nil
	}
	r := &stagingRoute{stagingID: cd.GetStagingDistributionId()}
	if h := cd.GetHeader(); h != nil {
		r.header, r.value = http.CanonicalHeaderKey(h.GetHeader()), h.GetValue()
		return r
	}
	w := cd.GetWeight()
	r.weight = w.GetWeight()
	if s := w.GetSessionStickiness(); s != nil {
		r.idle, r.maxAge = s.GetIdleTtl().AsDuration(), s.GetMaximumTtl().AsDuration()
	}
	return r
}

// continuousDeployment is part of the route stage at a PoP: for a primary
// with an enabled policy it picks the distribution that serves the
// request, and sets the session cookie to send. A staging distribution
// this node does not hold (yet) leaves the request on the primary.
func (t *txn) continuousDeployment(primary *dist) *dist {
	r := primary.staging
	if r == nil {
		return primary
	}
	staging := t.st.dists[r.stagingID]
	if staging == nil {
		return primary
	}
	if r.header != "" {
		if t.in.req.Header.Get(r.header) == r.value {
			return staging
		}
		return primary
	}
	if t.drawStaging(r) {
		return staging
	}
	return primary
}

// drawStaging decides a weight-routed request: by its session cookie when
// the session is still open, else by a draw from the request id (so the
// share is the policy's weight), starting a session when sticky.
func (t *txn) drawStaging(r *stagingRoute) bool {
	now := t.n.now()
	if r.idle > 0 {
		if side, began, ok := parseStagingCookie(t.in.req.Header, now); ok && now.Sub(began) < r.maxAge {
			t.cdCookie = stagingCookieValue(side, began, r.idle)
			return side
		}
	}
	side := float64(maphash.String(t.n.cdSeed, t.rid)>>11)/(1<<53) < r.weight
	if r.idle > 0 {
		t.cdCookie = stagingCookieValue(side, now, r.idle)
	}
	return side
}

// stagingCookieValue is the Set-Cookie value for a session on side
// (true: staging) that began at began; it lasts idle past this request.
func stagingCookieValue(staging bool, began time.Time, idle time.Duration) string {
	side := "p"
	if staging {
		side = "s"
	}
	return stagingCookie + "=" + side + "." + strconv.FormatInt(began.Unix(), 10) +
		"; Max-Age=" + strconv.Itoa(int(idle/time.Second)) + "; Path=/; HttpOnly"
}

// parseStagingCookie reads the session cookie; ok is false when there is
// none, it is malformed or it began in the future.
func parseStagingCookie(h http.Header, now time.Time) (staging bool, began time.Time, ok bool) {
	for _, line := range h.Values("Cookie") {
		for part := range strings.SplitSeq(line, ";") {
			name, v, found := strings.Cut(strings.TrimSpace(part), "=")
			if !found || name != stagingCookie {
				continue
			}
			side, ts, found := strings.Cut(v, ".")
			sec, err := strconv.ParseInt(ts, 10, 64)
			if !found || err != nil || (side != "s" && side != "p") {
				return false, time.Time{}, false
			}
			began = time.Unix(sec, 0)
			if began.After(now) {
				return false, time.Time{}, false
			}
			return side == "s", began, true
		}
	}
	return false, time.Time{}, false
}
