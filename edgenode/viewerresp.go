package edgenode

import (
	"context"
	"net/http"

	"github.com/edgelab/edgelab/edge"
)

// viewerResponse is the viewer-response stage: on hits and misses, not for
// viewer-request generated responses nor for status >= 400. The function
// cannot change the status. rep is not modified (it may be the cache's or
// a collapsed miss's): a changed answer is a new reply.
func (t *txn) viewerResponse(ctx context.Context, rep *reply) *reply {
	tr := t.b.triggers[edge.ViewerResponse]
	if tr == nil || rep.generated || rep.status >= 400 || rep.isEdgeError() {
		return rep
	}
	in := &edge.Response{Status: rep.status, StatusDescription: http.StatusText(rep.status), Header: exposedHeaders(rep.header)}
	res, errRep := t.invoke(ctx, tr, edge.ViewerResponse, t.req, in)
	if errRep != nil {
		return errRep
	}
	out := *rep
	if res.Response != nil {
		out.header = restoreHidden(rep.header, res.Response.Header)
		if len(res.Response.Body) > 0 {
			out.body = res.Response.Body
		}
	}
	return &out
}
