package edgenode

import (
	"context"
	"io"
	"net/http"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edgenode/cache"
)

// upstream is the tier a cache miss asks. Today that is the origin side
// (originSide: origin-request, the origin or origin group with failover,
// origin-response); a regional edge cache between the PoP and the origin
// can implement it as well. fetch never stores: the asking tier decides
// that from the answer. Implementations are safe for concurrent use.
type upstream interface {
	fetch(ctx context.Context, t *txn, q upstreamRequest) upstreamAnswer
}

// upstreamRequest is a miss as the asking tier hands it on.
type upstreamRequest struct {
	// req is the request after viewer-request; fetch does not modify it.
	req *edge.Request
	// body is the request body to send (nil: none); bodyPrefix what
	// include-body may expose of it.
	body       io.Reader
	bodyPrefix []byte
	// cacheable is set for GET and HEAD misses: the full object is fetched
	// (as GET, without the viewer's conditional headers).
	cacheable bool
	// stale is the expired copy the asking tier holds (nil: none): its
	// validators are sent, and an origin failure or 5xx is answered with
	// useStale rather than run through origin-response.
	stale *cache.Entry
}

// upstreamAnswer is what the upstream made of a miss.
type upstreamAnswer struct {
	// rep is the answer (nil with useStale and notModified).
	rep *reply
	// cacheable is set when rep may be stored: an origin answer or an
	// origin-request generated response, not an edge or function error.
	cacheable bool
	// useStale is set when no usable answer came: the asking tier serves
	// its expired copy.
	useStale bool
	// notModified holds the headers of a 304 that revalidated the expired
	// copy (nil otherwise).
	notModified http.Header
}

// upstream is the tier the node's misses go to: with a topology of RECs
// the second tier (recSide, which falls back on the origin side), else
// the origin side.
func (n *Node) upstream() upstream {
	if n.tiers.cfg.Topology != nil {
		return recSide{n}
	}
	return originSide{n}
}

// originSide is the upstream that talks to the origins themselves.
type originSide struct{ n *Node }

var _ upstream = originSide{}

// fetch runs origin-request and the origin fetch once per attempt of the
// behavior's origin (group failover on an error, a timeout or a
// configured status; GET/HEAD/OPTIONS only), then origin-response on the
// final answer.
func (o originSide) fetch(ctx context.Context, t *txn, q upstreamRequest) upstreamAnswer {
	attempts := t.b.target.attempts(q.req.Method)
	f := originFetch{method: q.req.Method, body: q.body, cacheable: q.cacheable, viewerHost: t.in.host}
	if q.cacheable {
		if f.method == http.MethodHead {
			f.method = http.MethodGet // fetch the object so GET and HEAD share it
		}
		f.revalidate = revalidation(q.stale)
	}
	var (
		got *originResponse
		err error
	)
	for i, oc := range attempts {
		var done *upstreamAnswer
		f.conf = oc
		f.req, f.body, done = t.originRequest(ctx, q, oc, f.body)
		if done != nil {
			return *done
		}
		got, err = o.n.fetchOrigin(ctx, f)
		if !t.failover(i == len(attempts)-1, oc, got, err) {
			break
		}
	}
	return t.originAnswer(ctx, q, f.req, got, err)
}

// attempts lists the origins a request with method may try in order: the
// secondary of a group only for GET, HEAD and OPTIONS.
func (ot *originTarget) attempts(method string) []*originConf {
	failoverOK := method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
	if ot.secondary != nil && failoverOK {
		return []*originConf{ot.primary, ot.secondary}
	}
	return []*originConf{ot.primary}
}

// failover reports whether the next attempt runs after oc answered got or
// failed with err, and logs why.
func (t *txn) failover(last bool, oc *originConf, got *originResponse, err error) bool {
	n := t.n
	if t.in.bodyFault() != nil {
		return false // the viewer's body broke: no origin gets it again
	}
	if err != nil {
		n.cfg.Logger.Warn("origin failed", "node", n.cfg.NodeID, "request_id", t.rid, "origin", oc.id,
			"timeout", isTimeout(err), "err", err, "failover", !last)
		return !last
	}
	if !last && t.b.target.failover[got.status] {
		n.cfg.Logger.Info("origin failover on status", "node", n.cfg.NodeID, "request_id", t.rid, "origin", oc.id, "status", got.status)
		return true
	}
	return false
}

// originAnswer turns the last attempt into the answer: the expired copy
// when the origin failed or answered 5xx while one is held, a
// revalidation, a 502 (400 or 413 when the viewer's body broke or
// outgrew its limit on the way), or the origin's response after
// origin-response.
func (t *txn) originAnswer(ctx context.Context, q upstreamRequest, oreq *edge.Request, got *originResponse, err error) upstreamAnswer {
	if r := t.in.bodyFault(); r != nil {
		return upstreamAnswer{rep: r.reply(t.rid)} // the viewer's fault, not the origin's
	}
	if err != nil || got == nil {
		if q.stale != nil {
			return upstreamAnswer{useStale: true}
		}
		return upstreamAnswer{rep: errorReply(http.StatusBadGateway, xError, "CloudFront wasn't able to connect to the origin.", t.rid)}
	}
	if got.status >= 500 && q.stale != nil {
		return upstreamAnswer{useStale: true}
	}
	if got.status == http.StatusNotModified && q.stale != nil && q.cacheable {
		// Revalidated: the stored object is fresh again (origin-response
		// does not run: there is no new response to show it).
		return upstreamAnswer{notModified: got.header}
	}
	rep, ok := t.originResponse(ctx, oreq, got)
	return upstreamAnswer{rep: rep, cacheable: ok}
}
