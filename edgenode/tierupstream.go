package edgenode

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/edgelab/edgelab/sandbox"
)

// recSide is the upstream of a node with a second tier: a PoP's RECs, or
// a REC's shield, then the origin when none of them answers.
type recSide struct{ n *Node }

var _ upstream = recSide{}

// errNoHopAnswer marks a peer answer without hopHeader: not an edgelab REC.
var errNoHopAnswer = errors.New("answer without " + hopHeader)

// fetch asks the peers in order; a peer that cannot be reached or does
// not answer as a REC is marked down and the next one asked. A request
// with a body is not retried (the body is spent). Without a peer, or when
// none answered, the origin side serves the miss here.
func (r recSide) fetch(ctx context.Context, t *txn, q upstreamRequest) upstreamAnswer {
	n := r.n
	for _, p := range n.tiers.peers(t.d.src.GetOriginShield(), n.now()) {
		a, err := n.fetchPeer(ctx, t, q, p)
		if err == nil {
			return a
		}
		if ctx.Err() != nil {
			// The viewer went away (or its request's deadline passed): not
			// the REC's fault, and nothing more to ask.
			return upstreamAnswer{rep: errorReply(http.StatusBadGateway, xError, "CloudFront wasn't able to connect to the regional edge cache.", t.rid)}
		}
		n.tiers.markDown(p.name, n.now())
		n.cfg.Logger.Warn("regional edge cache failed", "node", n.cfg.NodeID, "request_id", t.rid, "rec", p.name, "err", err)
		if q.body != nil {
			if q.stale != nil {
				return upstreamAnswer{useStale: true}
			}
			return upstreamAnswer{rep: errorReply(http.StatusBadGateway, xError, "CloudFront wasn't able to connect to the regional edge cache.", t.rid)}
		}
	}
	return originSide{n}.fetch(ctx, t, q)
}

// fetchPeer sends one miss to REC p and reads its whole answer. A 5xx
// from the REC with an expired copy held is answered with useStale.
func (n *Node) fetchPeer(ctx context.Context, t *txn, q upstreamRequest, p peer) (upstreamAnswer, error) {
	hreq, err := n.peerRequest(ctx, t, q, p)
	if err != nil {
		return upstreamAnswer{}, err
	}
	if err := n.cfg.Latency.Wait(ctx, n.cfg.Region, n.tiers.regionOf(p.name)); err != nil {
		return upstreamAnswer{}, fmt.Errorf("rec %s: %w", p.name, err)
	}
	connect, read := n.tiers.cfg.RECConnectTimeout, n.cfg.Origin.ReadTimeout
	ctx, cancel := context.WithTimeout(ctx, connect+2*read+n.cfg.Origin.ConnectTimeout)
	defer cancel()
	resp, err := n.origins.get(transportKey{connect: connect, read: 2*read + n.cfg.Origin.ConnectTimeout}).RoundTrip(hreq.WithContext(ctx))
	if err != nil {
		return upstreamAnswer{}, fmt.Errorf("rec %s: %w", p.name, err)
	}
	got, err := n.readOrigin(resp, hreq.Method)
	if err != nil {
		return upstreamAnswer{}, fmt.Errorf("rec %s: %w", p.name, err)
	}
	ans, ok := parseHopAnswer(got.header.Get(hopHeader))
	if !ok {
		return upstreamAnswer{}, fmt.Errorf("rec %s: %w", p.name, errNoHopAnswer)
	}
	if got.status >= 500 && q.stale != nil {
		return upstreamAnswer{useStale: true}, nil
	}
	t.fns = append(t.fns, peerFunctions(got.header)...)
	for k := range got.header {
		if k == "X-Cache" || strings.HasPrefix(k, "X-Edgelab-") {
			delete(got.header, k)
		}
	}
	rep := &reply{status: got.status, header: got.header, body: got.body, xcache: missOrError(got.status, xMiss),
		rec: &ans}
	if isFunctionError(ans.result) {
		rep.xcache = ans.result
	}
	return upstreamAnswer{rep: rep, cacheable: !ans.noStore}, nil
}

// peerRequest is the request a miss sends to REC p: the request as
// viewer-request left it (the headers that stay at the edge dropped, as
// for an origin), the viewer's Host, the hop context and Via.
func (n *Node) peerRequest(ctx context.Context, t *txn, q upstreamRequest, p peer) (*http.Request, error) {
	method := q.req.Method
	if q.cacheable {
		method = http.MethodGet // the REC stores the whole object for GET and HEAD
	}
	target := p.url + (&url.URL{Path: q.req.URI, RawQuery: q.req.QueryString}).RequestURI()
	hreq, err := http.NewRequestWithContext(ctx, method, target, q.body)
	if err != nil {
		return nil, fmt.Errorf("building request to rec %s: %w", p.name, err)
	}
	h := make(http.Header, len(q.req.Header)+3)
	for k, vs := range q.req.Header {
		if !dropToOrigin(k, q.cacheable) {
			h[k] = vs
		}
	}
	hops, pop, inval := 0, n.cfg.PoP, n.invalidatedAt(t.d.id)
	if t.hop != nil {
		hops, pop, inval = t.hop.hops+1, t.hop.pop, max(inval, t.hop.inval)
	}
	next := hop{pop: pop, behavior: t.b.pattern, client: q.req.ClientIP, hops: hops, inval: inval}
	if t.d.src.GetStaging() {
		next.staging = t.d.id
	}
	h.Set(hopHeader, next.encode())
	h["Via"] = append(slices.Clip(h["Via"]), n.hdr.via[0])
	hreq.Header = h
	hreq.Host = t.in.host
	return hreq, nil
}

// peerFunctions are the functions a REC ran (its X-Edgelab-Functions).
func peerFunctions(h http.Header) []string {
	v := h.Get("X-Edgelab-Functions")
	if v == "" {
		return nil
	}
	return strings.Split(v, ", ")
}

// isFunctionError reports whether an X-Cache result is a function error.
func isFunctionError(result string) bool {
	switch sandbox.Outcome(result) {
	case sandbox.OutcomeValidationError, sandbox.OutcomeExecutionError, sandbox.OutcomeLimitExceeded:
		return true
	}
	return false
}
