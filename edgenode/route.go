package edgenode

import (
	"fmt"
	"net/http"

	"github.com/edgelab/edgelab/edge"
)

// HealthPath answers 200 with the node id and applied revision (503 with a
// reason while a health-fail chaos fault is active, faults.go); it is
// reserved on every host (the gateway health-checks it).
const HealthPath = "/_edgelab/health"

// route is the first stage: the health answer, the viewer limits (414,
// 494, 501), the distribution by Host and the behavior by path (403).
// It returns nil when the request goes on, with t.d, t.b, t.req and t.info
// set, or the answer.
func (t *txn) route() *reply {
	n, in := t.n, &t.in
	if in.req.URI == HealthPath {
		return n.healthReply()
	}
	if in.uriLen >= n.cfg.MaxURIBytes {
		return errorReply(http.StatusRequestURITooLong, xError, "Request-URI Too Long.", t.rid)
	}
	if in.headerBytes+len(in.req.QueryString)+len(in.host) > n.cfg.MaxHeaderBytes {
		return errorReply(494, xError, "Request header or cookie too large.", t.rid)
	}
	if !knownMethod(in.req.Method) {
		return errorReply(http.StatusNotImplemented, xError, "Method not implemented.", t.rid)
	}
	if t.st != nil {
		t.d = t.st.distFor(in.host)
	}
	if t.d == nil {
		return errorReply(http.StatusForbidden, xError, "Bad request. No distribution serves host "+in.host+".", t.rid)
	}
	if !n.tiers.isREC() { // a REC serves the distribution its PoP chose (tierRoute)
		t.d = t.continuousDeployment(t.d)
	}
	t.b = t.d.behaviorFor(in.req.URI)
	if t.b == nil {
		return errorReply(http.StatusForbidden, xError, "Bad request. No cache behavior matches.", t.rid)
	}
	if t.b.methods != nil && !t.b.methods[in.req.Method] {
		return errorReply(http.StatusForbidden, xError, "This distribution is not configured to allow the HTTP request method that was used for this request.", t.rid)
	}
	t.req = &in.req
	t.info = edge.Info{
		DistributionID:     t.d.id,
		DistributionDomain: t.d.domain,
		RequestID:          t.rid,
		Region:             n.cfg.Region,
		PoP:                n.cfg.PoP,
		Node:               n.cfg.NodeID,
	}
	return nil
}

// healthReply is HealthPath's answer.
func (n *Node) healthReply() *reply {
	if rep := n.healthFaultReply(); rep != nil {
		return rep // chaos: health-fail
	}
	h := http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}
	body := fmt.Appendf(nil, `{"node":%q,"region":%q,"pop":%q,"revision":%d}`+"\n", n.cfg.NodeID, n.cfg.Region, n.cfg.PoP, n.Revision())
	return &reply{status: 200, header: h, body: body, xcache: xMiss}
}
