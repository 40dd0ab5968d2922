package edgenode

import (
	"context"
	"io"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/sandbox"
)

// originRequest is the origin-request stage of one attempt at oc. It
// returns the request to send to oc (q.req with the Origin set, or the
// function's) and the body to send with it; or, when the miss ends here,
// the answer: a generated response (cached; origin-response does not run)
// or a function error.
func (t *txn) originRequest(ctx context.Context, q upstreamRequest, oc *originConf, body io.Reader) (*edge.Request, io.Reader, *upstreamAnswer) {
	// A shallow copy: the headers stay shared and read-only; the fetch
	// stage builds the outbound header set, the one copy per attempt.
	oreq := *q.req
	// The origin is the shared one: runners never modify an invocation's
	// request, and a function's changes come back as a new request.
	oreq.Origin = oc.origin
	t.b.forward.apply(&oreq) // the origin request policy (forward.go)
	tr := t.b.triggers[edge.OriginRequest]
	if tr == nil {
		return &oreq, body, nil
	}
	in := oreq
	if tr.includeBody {
		in.Body = exposeBody(q.bodyPrefix, t.n.cfg.Profile.Origin.MaxBodyBytes)
	}
	res, errRep := t.invoke(ctx, tr, edge.OriginRequest, &in, nil)
	if errRep != nil {
		return nil, nil, &upstreamAnswer{rep: errRep}
	}
	if res.Outcome == sandbox.OutcomeGenerated && res.Response != nil {
		rep := &reply{status: res.Response.Status, header: res.Response.Header, body: res.Response.Body, xcache: missOrError(res.Response.Status, xMiss)}
		return nil, nil, &upstreamAnswer{rep: rep, cacheable: true}
	}
	if res.Request == nil {
		return &oreq, body, nil
	}
	return adoptRequest(res.Request, &body), body, nil
}
