package edgenode

import (
	"context"
	"net/http"

	"github.com/edgelab/edgelab/edge"
)

// originResponse is the origin-response stage: the origin's answer to
// oreq, after the trigger when there is one (it may change the status,
// headers and body). ok is false for a function error, which is not
// cached.
func (t *txn) originResponse(ctx context.Context, oreq *edge.Request, got *originResponse) (rep *reply, ok bool) {
	rep = &reply{status: got.status, header: got.header, body: got.body}
	if tr := t.b.triggers[edge.OriginResponse]; tr != nil {
		in := &edge.Response{Status: got.status, StatusDescription: http.StatusText(got.status), Header: exposedHeaders(got.header)}
		res, errRep := t.invoke(ctx, tr, edge.OriginResponse, oreq, in)
		if errRep != nil {
			return errRep, false
		}
		if out := res.Response; out != nil {
			rep.status = out.Status
			rep.header = restoreHidden(got.header, out.Header)
			// A body the function left nil is the origin's; one it set
			// replaces it, and an empty one removes it.
			if out.Body != nil {
				rep.body = out.Body
			}
		}
	}
	rep.xcache = missOrError(rep.status, xMiss)
	return rep, true
}
