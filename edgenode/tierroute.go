package edgenode

import (
	"net/http"
)

// tierRoute follows route. At a PoP it only says so in Info. At a REC it
// serves tier requests only (a viewer reaching a REC directly would skip
// the viewer triggers): the behavior is the one the asking PoP chose, the
// client address the viewer's, and Info names the REC and the PoP the
// request came through.
func (t *txn) tierRoute() *reply {
	n := t.n
	if !n.tiers.isREC() {
		t.info.Tier = RolePoP
		return nil
	}
	h, ok := parseHop(t.in.hop)
	if !ok {
		return errorReply(http.StatusForbidden, xError, "This is a regional edge cache: it serves edge locations, not viewers.", t.rid)
	}
	if h.hops >= maxHops {
		return errorReply(http.StatusLoopDetected, xError, "The request passed too many regional edge caches.", t.rid)
	}
	t.hop = &h
	if s := t.st.dists[h.staging]; h.staging != "" && s != nil && s.src.GetStaging() {
		t.d, t.b = s, s.behaviorFor(t.in.req.URI) // the PoP routed it to a staging distribution
		if t.b == nil {
			return errorReply(http.StatusForbidden, xError, "Bad request. No cache behavior matches.", t.rid)
		}
	}
	if b := t.d.behaviorByPattern(h.behavior); b != nil {
		t.b = b
	}
	t.in.req.ClientIP = h.client
	t.in.exposeHost()
	t.info.Tier, t.info.REC, t.info.PoP = RoleREC, n.cfg.PoP, h.pop
	return nil
}

// behaviorByPattern returns the behavior with path pattern p (nil: none,
// e.g. the distribution changed between the tiers' revisions).
func (d *dist) behaviorByPattern(p string) *behavior {
	for _, b := range d.behaviors {
		if b.pattern == p {
			return b
		}
	}
	return nil
}

// tierHeaders adds the tier headers to a response: a REC answering a tier
// request says what it made of it (hopHeader); a PoP whose miss a REC
// answered names the REC and its result (X-Edgelab-Rec, -Rec-Cache).
func (t *txn) tierHeaders(rep *reply, sink headerSink) {
	if t.hop != nil {
		sink.set1(hopHeader, hopAnswer{rec: t.n.cfg.PoP, result: rep.xcache, noStore: rep.noStore}.encode())
		return
	}
	if r := rep.rec; r != nil {
		sink.set1("X-Edgelab-Rec", r.rec)
		sink.set(xRecCache, t.n.hdr.xCache(r.result))
	}
}

// xRecCache is the header naming the REC's X-Cache result at the PoP.
const xRecCache = "X-Edgelab-Rec-Cache"
