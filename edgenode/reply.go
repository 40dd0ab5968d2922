package edgenode

import (
	"net/http"
	"time"

	"github.com/edgelab/edgelab/edgenode/cache"
)

// X-Cache results besides the sandbox outcomes.
const (
	xHit       = "Hit"
	xMiss      = "Miss"
	xRefresh   = "RefreshHit"
	xError     = "Error"
	xGenerated = "LambdaGeneratedResponse" // viewer-request generated response, as CloudFront says
)

// reply is a response on its way to the viewer: the output of every stage
// that can answer, the input of viewer-response and of the writer.
type reply struct {
	status int
	header http.Header
	body   []byte
	xcache string
	age    time.Duration // > 0 for cache hits
	// stale is set when an expired object is served because the origin failed.
	stale bool
	// generated is set for viewer-request generated responses (viewer-response skipped).
	generated bool
	// noStore is set on a miss's answer that was not stored (an edge or
	// function error), so a REC tells the asking tier not to store it.
	noStore bool
	// rec is what the REC that answered a miss said (nil: none did).
	rec *hopAnswer
}

// missOrError is the X-Cache result for a status: Error for >= 400 (fresh
// or cached, as CloudFront reports it), else ok.
func missOrError(status int, ok string) string {
	if status >= 400 {
		return xError
	}
	return ok
}

// fillFromEntry makes rep answer a cached object.
func (rep *reply) fillFromEntry(e *cache.Entry, xcache string, now time.Time) {
	*rep = reply{status: e.Status, header: e.Header, body: e.Body, xcache: xcache, age: max(now.Sub(e.Stored), time.Nanosecond)}
}

// staleReply serves an expired object when the origin failed or answered
// 5xx (CloudFront does the same); it says Hit and carries a Warning.
func staleReply(e *cache.Entry, now time.Time) *reply {
	rep := &reply{}
	rep.fillFromEntry(e, xHit, now)
	rep.stale = true
	return rep
}

// isEdgeError reports whether rep is a function error answer (no
// viewer-response runs on it).
func (rep *reply) isEdgeError() bool {
	switch rep.xcache {
	case xValidationError, xExecutionError, xLimitExceeded:
		return true
	}
	return false
}
