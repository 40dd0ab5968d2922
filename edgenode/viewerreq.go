package edgenode

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/sandbox"
)

// readBody reads up to the largest include-body exposure when a request
// trigger wants the body, keeping the rest streaming; t.body is what is
// still to send upstream.
func (t *txn) readBody() *reply {
	in, cfg := &t.in, &t.n.cfg
	t.body = withLength(in.body, in.contentLength)
	if in.contentLength == 0 || in.body == nil || !(t.b.wantsBody(edge.ViewerRequest) || t.b.wantsBody(edge.OriginRequest)) {
		return nil
	}
	limit := int64(max(cfg.Profile.Viewer.MaxBodyBytes, cfg.Profile.Origin.MaxBodyBytes))
	limit = min(limit, cfg.MaxRequestBodyBytes)
	prefix, err := io.ReadAll(io.LimitReader(in.body, limit+1))
	if r := (*refusal)(nil); errors.As(err, &r) {
		return r.reply(t.rid) // broken framing, or over MaxBodyBytes
	}
	if err != nil {
		return errorReply(http.StatusBadRequest, xError, "Bad request body.", t.rid)
	}
	t.bodyPrefix = prefix
	t.body = withLength(io.MultiReader(bytes.NewReader(prefix), in.body), in.contentLength)
	return nil
}

// wantsBody reports whether the trigger at ev exposes the request body.
func (b *behavior) wantsBody(ev edge.EventType) bool {
	tr := b.triggers[ev]
	return tr != nil && tr.includeBody
}

// viewerRequest is the viewer-request stage. Functions of any trigger see
// the Host header and the client address. It returns nil when the request
// goes on (t.req is then the function's request), or the answer: a
// generated response or a function error.
func (t *txn) viewerRequest(ctx context.Context) *reply {
	if len(t.b.triggers) == 0 {
		return nil
	}
	t.in.exposeHost()
	t.in.fillClientIP()
	tr := t.b.triggers[edge.ViewerRequest]
	if tr == nil {
		return nil
	}
	// Runners never modify the invocation's request (sandbox.Runner): a
	// shallow copy carries the exposed body.
	in := t.req
	if tr.includeBody {
		withBody := *t.req
		withBody.Body = exposeBody(t.bodyPrefix, t.n.cfg.Profile.Viewer.MaxBodyBytes)
		in = &withBody
	}
	res, errRep := t.invoke(ctx, tr, edge.ViewerRequest, in, nil)
	if errRep != nil {
		return errRep
	}
	if res.Outcome == sandbox.OutcomeGenerated && res.Response != nil {
		return &reply{status: res.Response.Status, header: res.Response.Header, body: res.Response.Body, xcache: xGenerated, generated: true}
	}
	if res.Request != nil {
		t.req = adoptRequest(res.Request, &t.body)
	}
	return nil
}

// adoptRequest takes a request trigger's request as the one that goes on:
// a replaced body becomes what is sent (*body), and the exposure is dropped.
func adoptRequest(r *edge.Request, body *io.Reader) *edge.Request {
	if r.Body != nil && r.Body.Replace {
		*body = bytes.NewReader(r.Body.Data)
	}
	r.Body = nil
	if r.Header == nil {
		r.Header = http.Header{}
	}
	return r
}

// exposeBody is the include-body view of the body read so far, cut at limit.
func exposeBody(prefix []byte, limit int) *edge.Body {
	b := &edge.Body{}
	if len(prefix) > limit {
		b.Data = append([]byte(nil), prefix[:limit]...)
		b.Truncated = true
	} else {
		b.Data = append([]byte(nil), prefix...)
	}
	return b
}
