package edgenode

import (
	"context"
	"net/http"
	"time"

	"github.com/edgelab/edgelab/edge"
)

// customError is the custom error response stage, the last before write:
// an error (from the origin, cached, or the edge's own, such as a geo
// refusal or an unreachable origin; not a function's) whose status has a
// custom error response with a page is answered with that page, fetched
// through the behavior its path matches (and cached like any object),
// under the configured response code. When the page cannot be had, the
// error goes out as it was.
func (t *txn) customError(ctx context.Context, rep *reply) *reply {
	if rep.status < 400 || rep.xcache != xError || t.errorPage {
		return rep
	}
	er := t.d.errorResponses[rep.status]
	if er == nil || er.page == "" {
		return rep
	}
	page := t.fetchErrorPage(ctx, er.page)
	if page == nil {
		return rep
	}
	code := er.code
	if code == 0 {
		code = rep.status
	}
	return &reply{status: code, header: page.header, body: page.body, xcache: xError}
}

// fetchErrorPage gets path as a GET through the cache and the behavior
// that matches it (origin-request and origin-response run on a miss);
// nil when that answers an error.
func (t *txn) fetchErrorPage(ctx context.Context, path string) *reply {
	b := t.d.behaviorFor(path)
	if b == nil {
		return nil
	}
	sub := &txn{n: t.n, st: t.st, d: t.d, b: b, rid: t.rid, info: t.info, errorPage: true}
	sub.in.req = edge.Request{Method: http.MethodGet, URI: path, Header: http.Header{}, ClientIP: t.req.ClientIP}
	sub.req = &sub.in.req
	rep := sub.lookup(ctx)
	t.fns = append(t.fns, sub.fns...)
	if rep == nil || rep.status >= 400 {
		return nil
	}
	return rep
}

// errorTTL is how long an error with status is cached: the custom error
// response's error caching minimum TTL, else Config.ErrorTTL.
func (t *txn) errorTTL(status int) time.Duration {
	if er := t.d.errorResponses[status]; er != nil {
		return er.minTTL
	}
	return t.n.cfg.ErrorTTL
}
