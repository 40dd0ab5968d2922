package edgenode

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/edgenode/cache"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

// X-Cache results besides the sandbox outcomes.
const (
	xHit       = "Hit"
	xMiss      = "Miss"
	xRefresh   = "RefreshHit"
	xError     = "Error"
	xGenerated = "LambdaGeneratedResponse" // viewer-request generated response, as CloudFront says
)

// HealthPath answers 200 with the node id and applied revision (503 with a
// reason while a health-fail chaos fault is active, faults.go); it is
// reserved on every host (the gateway health-checks it).
const HealthPath = "/_edgelab/health"

// reply is a response on its way to the viewer.
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
}

// txn carries one viewer request through the pipeline.
type txn struct {
	n     *Node
	st    *state
	d     *dist
	b     *behavior
	rid   string
	fns   []string
	start time.Time
}

// knownMethods are the methods CloudFront accepts at all.
var knownMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}

// ServeHTTP runs one viewer request through the CloudFront pipeline:
//
//	viewer -> limits -> distribution/behavior -> viewer-request
//	       -> cache lookup --hit--> viewer-response -> viewer
//	            \--miss (collapsed per key)--> origin-request -> origin (group failover)
//	                                         -> origin-response -> cache store
//	                                         -> viewer-response -> viewer
func (n *Node) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := n.beginTxn()
	defer t.end()
	rep := t.serve(r.Context(), r)
	t.write(w, r, rep)
}

// beginTxn starts a viewer request: a request id and a hold on the serving
// state (released by end), whichever front end received it.
func (n *Node) beginTxn() *txn {
	t := &txn{n: n, rid: n.newRequestID(), start: time.Now()}
	t.st = n.acquireState()
	return t
}

// end releases the transaction's hold on the serving state.
func (t *txn) end() {
	if t.st != nil {
		t.st.inflight.Add(-1)
	}
}

// serve runs the pipeline for r; ctx bounds it (the viewer connection's
// context under net/http, the node's under the fasthttp front end).
func (t *txn) serve(ctx context.Context, r *http.Request) *reply {
	n := t.n
	if r.URL.Path == HealthPath {
		if rep := n.healthFaultReply(); rep != nil {
			return rep // chaos: health-fail
		}
		h := http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}
		body := fmt.Appendf(nil, `{"node":%q,"region":%q,"pop":%q,"revision":%d}`+"\n", n.cfg.NodeID, n.cfg.Region, n.cfg.PoP, n.Revision())
		return &reply{status: 200, header: h, body: body, xcache: xMiss}
	}
	if len(r.RequestURI) >= n.cfg.MaxURIBytes {
		return errorReply(http.StatusRequestURITooLong, xError, "Request-URI Too Long.", t.rid)
	}
	if headerBytes(r) > n.cfg.MaxHeaderBytes {
		return errorReply(494, xError, "Request header or cookie too large.", t.rid)
	}
	if !knownMethods[r.Method] {
		return errorReply(http.StatusNotImplemented, xError, "Method not implemented.", t.rid)
	}
	if t.st != nil {
		t.d = t.st.distFor(r.Host)
	}
	if t.d == nil {
		return errorReply(http.StatusForbidden, xError, "Bad request. No distribution serves host "+r.Host+".", t.rid)
	}
	path := r.URL.Path
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	t.b = t.d.behaviorFor(path)
	if t.b == nil {
		return errorReply(http.StatusForbidden, xError, "Bad request. No cache behavior matches.", t.rid)
	}
	if t.b.methods != nil && !t.b.methods[r.Method] {
		return errorReply(http.StatusForbidden, xError, "This distribution is not configured to allow the HTTP request method that was used for this request.", t.rid)
	}

	req := &edge.Request{
		Method:      r.Method,
		URI:         path,
		QueryString: r.URL.RawQuery,
		ClientIP:    clientIP(r.RemoteAddr),
	}
	if len(t.b.triggers) > 0 {
		req.Header = exposedHeaders(r.Header)
		req.Header.Set("Host", r.Host)
	} else {
		// No function will see it: share the viewer's headers (only read;
		// the origin request clones them).
		req.Header = r.Header
	}

	// Include-body: read up to the largest exposure, keep the rest streaming.
	var bodyPrefix []byte
	var reqBody io.Reader = r.Body
	if r.ContentLength != 0 && r.Body != nil && (t.wantsBody(edge.ViewerRequest) || t.wantsBody(edge.OriginRequest)) {
		limit := int64(max(n.cfg.Profile.Viewer.MaxBodyBytes, n.cfg.Profile.Origin.MaxBodyBytes))
		limit = min(limit, n.cfg.MaxRequestBodyBytes)
		var err error
		bodyPrefix, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			return errorReply(http.StatusBadRequest, xError, "Bad request body.", t.rid)
		}
		reqBody = io.MultiReader(bytes.NewReader(bodyPrefix), r.Body)
	}
	if tr := t.b.triggers[edge.ViewerRequest]; tr != nil {
		// Runners never modify the invocation's request (sandbox.Runner):
		// a shallow copy carries the exposed body.
		in := *req
		if tr.includeBody {
			in.Body = exposeBody(bodyPrefix, n.cfg.Profile.Viewer.MaxBodyBytes)
		}
		res, errRep := t.invoke(ctx, tr, edge.ViewerRequest, &in, nil)
		if errRep != nil {
			return errRep
		}
		if res.Outcome == sandbox.OutcomeGenerated && res.Response != nil {
			return &reply{status: res.Response.Status, header: res.Response.Header, body: res.Response.Body, xcache: xGenerated, generated: true}
		}
		if res.Request != nil {
			if res.Request.Body != nil && res.Request.Body.Replace {
				reqBody = bytes.NewReader(res.Request.Body.Data)
			}
			res.Request.Body = nil
			req = res.Request
			if req.Header == nil {
				req.Header = http.Header{}
			}
		}
	}

	rep := t.fetch(ctx, req, reqBody, bodyPrefix)
	return t.viewerResponse(ctx, req, rep)
}

func (t *txn) wantsBody(ev edge.EventType) bool {
	tr := t.b.triggers[ev]
	return tr != nil && tr.includeBody
}

// fetch answers from the cache or the origin. GET and HEAD are cached and
// their misses collapsed per cache key; other methods go straight through.
func (t *txn) fetch(ctx context.Context, req *edge.Request, body io.Reader, bodyPrefix []byte) *reply {
	n := t.n
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		rep, _ := t.miss(ctx, req, body, bodyPrefix, "", nil)
		return rep
	}
	key := cache.Key(t.d.id, req.URI, req.QueryString, req.Header, t.b.keyPolicy)
	now := t.n.now()
	stale, ok := n.cache.Get(key)
	if ok && stale.Fresh(now) {
		return entryReply(stale, missOrError(stale.Status, xHit), now)
	}
	if n.testHookMiss != nil {
		n.testHookMiss()
	}
	// Collapse concurrent misses: the first request fetches for everyone;
	// its context is detached so one viewer hanging up does not fail the rest.
	type flight struct {
		rep *reply
		fns []string
	}
	leader := false
	v, _, _ := n.flights.Do(key, func() (any, error) {
		leader = true
		rep, _ := t.miss(context.WithoutCancel(ctx), req, nil, nil, key, stale)
		return &flight{rep: rep, fns: slices.Clone(t.fns)}, nil
	})
	f := v.(*flight)
	if !leader {
		t.fns = append(t.fns[:0:0], f.fns...)
	}
	return f.rep
}

// miss runs origin-request, the origin (with group failover), origin-response
// and the cache store. key is "" for uncacheable methods.
func (t *txn) miss(ctx context.Context, req *edge.Request, body io.Reader, bodyPrefix []byte, key string, stale *cache.Entry) (*reply, bool) {
	n := t.n
	target := t.b.target
	attempts := []*originConf{target.primary}
	failoverOK := req.Method == http.MethodGet || req.Method == http.MethodHead || req.Method == http.MethodOptions
	if target.secondary != nil && failoverOK {
		attempts = append(attempts, target.secondary)
	}
	method := req.Method
	if method == http.MethodHead && key != "" {
		method = http.MethodGet // fetch the object so GET and HEAD share it
	}
	var (
		oresp   *originResponse
		lastErr error
		oreq    *edge.Request
	)
	for i, oc := range attempts {
		oreq = req.Clone()
		oreq.Origin = &edge.Origin{ID: oc.id, URL: oc.base.String(), CustomHeaders: http.Header{}}
		if tr := t.b.triggers[edge.OriginRequest]; tr != nil {
			in := oreq.Clone()
			if tr.includeBody {
				in.Body = exposeBody(bodyPrefix, n.cfg.Profile.Origin.MaxBodyBytes)
			}
			res, errRep := t.invoke(ctx, tr, edge.OriginRequest, in, nil)
			if errRep != nil {
				return errRep, false
			}
			if res.Outcome == sandbox.OutcomeGenerated && res.Response != nil {
				// An origin-request generated response is cached; origin-response does not run.
				rep := &reply{status: res.Response.Status, header: res.Response.Header, body: res.Response.Body, xcache: missOrError(res.Response.Status, xMiss)}
				t.store(key, req, rep)
				return rep, true
			}
			if res.Request != nil {
				if res.Request.Body != nil && res.Request.Body.Replace {
					body = bytes.NewReader(res.Request.Body.Data)
				}
				res.Request.Body = nil
				oreq = res.Request
				if oreq.Header == nil {
					oreq.Header = http.Header{}
				}
			}
		}
		sendReq := oreq.Clone()
		sendReq.Method = method
		var cond http.Header
		if key != "" {
			// The cache wants the full object, not the viewer's conditional
			// answer; an expired object is revalidated with its validators.
			for _, k := range conditionalHeaders {
				sendReq.Header.Del(k)
			}
			cond = revalidation(stale)
		}
		oresp, lastErr = n.fetchOrigin(ctx, sendReq, oc, body, cond)
		last := i == len(attempts)-1
		if lastErr != nil {
			n.cfg.Logger.Warn("origin failed", "node", n.cfg.NodeID, "request_id", t.rid, "origin", oc.id,
				"timeout", isTimeout(lastErr), "err", lastErr, "failover", !last)
			if !last {
				continue
			}
			break
		}
		if !last && target.failover[oresp.status] {
			n.cfg.Logger.Info("origin failover on status", "node", n.cfg.NodeID, "request_id", t.rid, "origin", oc.id, "status", oresp.status)
			continue
		}
		break
	}
	if lastErr != nil || oresp == nil {
		if stale != nil {
			return staleReply(stale, t.n.now()), false
		}
		return errorReply(http.StatusBadGateway, xError, "CloudFront wasn't able to connect to the origin.", t.rid), false
	}
	if oresp.status >= 500 && stale != nil {
		return staleReply(stale, t.n.now()), false
	}
	if oresp.status == http.StatusNotModified && stale != nil && key != "" {
		// Revalidated: the stored object is fresh again (origin-response
		// does not run: there is no new response to show it).
		return t.refresh(key, stale, oresp.header), true
	}
	rep := &reply{status: oresp.status, header: oresp.header, body: oresp.body}
	if tr := t.b.triggers[edge.OriginResponse]; tr != nil {
		in := &edge.Response{Status: oresp.status, StatusDescription: http.StatusText(oresp.status), Header: exposedHeaders(oresp.header)}
		res, errRep := t.invoke(ctx, tr, edge.OriginResponse, oreq, in)
		if errRep != nil {
			return errRep, false
		}
		if out := res.Response; out != nil {
			rep.status = out.Status
			rep.header = restoreHidden(oresp.header, out.Header)
			if len(out.Body) > 0 {
				rep.body = out.Body
			}
		}
	}
	rep.xcache = missOrError(rep.status, xMiss)
	t.store(key, req, rep)
	return rep, true
}

// missOrError is the X-Cache result for a status: Error for >= 400 (fresh
// or cached, as CloudFront reports it), else ok.
func missOrError(status int, ok string) string {
	if status >= 400 {
		return xError
	}
	return ok
}

// store caches rep under key when the cache policy allows it.
func (t *txn) store(key string, req *edge.Request, rep *reply) {
	if key == "" {
		return
	}
	now := t.n.now()
	ttl, ok := cache.TTL(t.b.ttl, rep.status, rep.header, now, t.n.cfg.ErrorTTL)
	if !ok {
		return
	}
	t.n.cache.Put(key, &cache.Entry{
		Distribution: t.d.id,
		Path:         req.URI,
		Status:       rep.status,
		Header:       rep.header,
		Body:         rep.body,
		Stored:       now,
		Expires:      now.Add(ttl),
	})
}

// conditionalHeaders are removed from cacheable origin fetches.
var conditionalHeaders = []string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range"}

// revalidation returns the conditional headers that revalidate an expired
// entry (nil when there is none or it has no validator).
func revalidation(e *cache.Entry) http.Header {
	if e == nil {
		return nil
	}
	h := http.Header{}
	if v := e.Header.Get("ETag"); v != "" {
		h.Set("If-None-Match", v)
	}
	if v := e.Header.Get("Last-Modified"); v != "" {
		h.Set("If-Modified-Since", v)
	}
	if len(h) == 0 {
		return nil
	}
	return h
}

// refresh stores a revalidated entry with the 304's caching headers merged
// in and answers it as RefreshHit.
func (t *txn) refresh(key string, stale *cache.Entry, notModified http.Header) *reply {
	now := t.n.now()
	h := stale.Header.Clone()
	for _, k := range []string{"Cache-Control", "Expires", "Date", "ETag", "Last-Modified"} {
		if vs, ok := notModified[k]; ok {
			h[k] = vs
		}
	}
	e := *stale
	e.Header = h
	e.Stored = now
	ttl, ok := cache.TTL(t.b.ttl, e.Status, h, now, t.n.cfg.ErrorTTL)
	if ok {
		e.Expires = now.Add(ttl)
		t.n.cache.Put(key, &e)
	}
	return &reply{status: e.Status, header: e.Header, body: e.Body, xcache: xRefresh}
}

// staleReply serves an expired object when the origin failed or answered
// 5xx (CloudFront does the same); it says Hit and carries a Warning.
func staleReply(e *cache.Entry, now time.Time) *reply {
	rep := entryReply(e, xHit, now)
	rep.stale = true
	return rep
}

func entryReply(e *cache.Entry, xcache string, now time.Time) *reply {
	return &reply{status: e.Status, header: e.Header, body: e.Body, xcache: xcache, age: max(now.Sub(e.Stored), time.Nanosecond)}
}

// viewerResponse runs the viewer-response trigger: on hits and misses,
// not for viewer-request generated responses nor for status >= 400. The
// function cannot change the status.
func (t *txn) viewerResponse(ctx context.Context, req *edge.Request, rep *reply) *reply {
	tr := t.b.triggers[edge.ViewerResponse]
	if tr == nil || rep.generated || rep.status >= 400 || isEdgeError(rep) {
		return rep
	}
	in := &edge.Response{Status: rep.status, StatusDescription: http.StatusText(rep.status), Header: exposedHeaders(rep.header)}
	res, errRep := t.invoke(ctx, tr, edge.ViewerResponse, req, in)
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

func isEdgeError(rep *reply) bool {
	switch rep.xcache {
	case string(sandbox.OutcomeValidationError), string(sandbox.OutcomeExecutionError), string(sandbox.OutcomeLimitExceeded):
		return true
	}
	return false
}

// invoke runs one trigger. It returns the result, or an error reply when the
// function failed (502 validation, 503 execution / limit).
func (t *txn) invoke(ctx context.Context, tr *trigger, ev edge.EventType, req *edge.Request, resp *edge.Response) (sandbox.Result, *reply) {
	n := t.n
	t.fns = append(t.fns, tr.label)
	inv := sandbox.Invocation{
		Function: tr.fn.name,
		Version:  tr.fn.version,
		Event:    ev,
		Request:  req,
		Response: resp,
		Info: edge.Info{
			EventType:          ev,
			DistributionID:     t.d.id,
			DistributionDomain: t.d.domain,
			RequestID:          t.rid,
			Region:             n.cfg.Region,
			PoP:                n.cfg.PoP,
			Node:               n.cfg.NodeID,
			FunctionName:       tr.fn.name,
			FunctionVersion:    tr.fn.version,
		},
	}
	res, err := n.runner.Invoke(ctx, inv)
	if err != nil {
		res = sandbox.Result{Outcome: sandbox.OutcomeExecutionError, Err: err}
	}
	// The node's own Manager validates with the node's profile; any other
	// Runner (fakes, the in-process runner) is checked here. It is
	// idempotent.
	if !n.runnerValidates {
		sandbox.ValidateResult(inv, n.cfg.Profile.For(ev), &res)
	}
	n.invMetrics.observe(tr.fn.name, ev, res.Outcome, res.Duration.Seconds())
	if res.Cold {
		n.metrics.coldStarts.WithLabelValues(tr.fn.name).Inc()
	}
	t.shipLogs(tr, res)
	switch res.Outcome {
	case sandbox.OutcomeContinue, sandbox.OutcomeGenerated:
		return res, nil
	case sandbox.OutcomeValidationError:
		n.cfg.Logger.Warn("function validation error", "node", n.cfg.NodeID, "request_id", t.rid, "function", tr.fn.String(), "event", ev, "err", res.Err)
		return res, errorReply(http.StatusBadGateway, string(res.Outcome), "The Lambda function returned an invalid response to CloudFront.", t.rid)
	case sandbox.OutcomeLimitExceeded:
		n.cfg.Logger.Warn("function throttled", "node", n.cfg.NodeID, "request_id", t.rid, "function", tr.fn.String(), "event", ev, "err", res.Err)
		return res, errorReply(http.StatusServiceUnavailable, string(res.Outcome), "The Lambda function associated with the CloudFront distribution was throttled.", t.rid)
	default:
		n.cfg.Logger.Warn("function execution error", "node", n.cfg.NodeID, "request_id", t.rid, "function", tr.fn.String(), "event", ev, "err", res.Err)
		return res, errorReply(http.StatusServiceUnavailable, string(sandbox.OutcomeExecutionError), "The Lambda function associated with the CloudFront distribution is invalid or doesn't have the required permissions.", t.rid)
	}
}

func (t *txn) shipLogs(tr *trigger, res sandbox.Result) {
	sink := t.n.cfg.LogSink
	if sink == nil || (len(res.Logs) == 0 && res.Outcome != sandbox.OutcomeValidationError) {
		return
	}
	mk := func(tm time.Time, msg, kind string) *edgelabv1.LogLine {
		return &edgelabv1.LogLine{
			Time: timestamppb.New(tm), Message: msg, Function: tr.fn.name, Version: tr.fn.version,
			Region: t.n.cfg.Region, Node: t.n.cfg.NodeID, RequestId: t.rid, DistributionId: t.d.id, Kind: kind,
		}
	}
	lines := make([]*edgelabv1.LogLine, 0, len(res.Logs)+1)
	for _, l := range res.Logs {
		lines = append(lines, mk(l.Time, l.Message, "function"))
	}
	if res.Outcome == sandbox.OutcomeValidationError {
		msg := "validation error"
		if res.Err != nil {
			msg = res.Err.Error()
		}
		lines = append(lines, mk(time.Now(), msg, "validation"))
	}
	sink(lines)
}

// headerSink receives the response headers a viewer gets.
type headerSink interface {
	// set sets a header to values that are shared (never modified).
	set(k string, vs []string)
	// set1 sets a header to one value.
	set1(k, v string)
}

// netSink writes headers into a net/http response header map. The
// per-request values share one backing array (capacity-limited
// sub-slices: an append elsewhere copies instead of overwriting).
type netSink struct {
	h    http.Header
	vals []string
}

func (s *netSink) set(k string, vs []string) { s.h[k] = vs }

func (s *netSink) set1(k, v string) {
	if len(s.vals) == cap(s.vals) {
		s.vals = make([]string, 0, 4)
	}
	s.vals = append(s.vals, v)
	i := len(s.vals) - 1
	s.h[k] = s.vals[i : i+1 : i+1]
}

// write sends rep with the edge headers through net/http.
func (t *txn) write(w http.ResponseWriter, r *http.Request, rep *reply) {
	status, bodyAllowed := t.responseHeaders(rep, &netSink{h: w.Header()})
	if bodyAllowed {
		w.Header()["Content-Length"] = []string{strconv.Itoa(len(rep.body))}
	}
	w.WriteHeader(status)
	if bodyAllowed && r.Method != http.MethodHead {
		_, _ = w.Write(rep.body)
	}
	t.n.reqCount.inc(rep.xcache, status)
}

// responseHeaders passes rep's headers and the edge's own (X-Cache, Via,
// the PoP, node, request id, functions and Age) to sink, and returns the
// status to send and whether a body goes with it. rep.header's slices are
// shared with the cache: they are passed by reference and never appended
// to in place. Content-Length is left to the writer.
func (t *txn) responseHeaders(rep *reply, sink headerSink) (status int, bodyAllowed bool) {
	n := t.n
	fns := len(t.fns) > 0
	for k, vs := range rep.header {
		switch k {
		case "Content-Length", "X-Cache", "Via", "X-Edgelab-Pop", "X-Edgelab-Node", "X-Edgelab-Request-Id":
			continue
		case "Warning":
			if rep.stale {
				continue
			}
		case "X-Edgelab-Functions":
			if fns {
				continue
			}
		case "Age":
			if rep.age > 0 {
				continue
			}
		}
		// Functions may have added framing headers; the server owns those.
		if fns && slices.Contains(hopHeaders, k) {
			continue
		}
		sink.set(k, vs)
	}
	sink.set("X-Cache", n.hdr.xCache(rep.xcache))
	if via := rep.header["Via"]; len(via) > 0 {
		sink.set("Via", append(via[:len(via):len(via)], n.hdr.via[0]))
	} else {
		sink.set("Via", n.hdr.via)
	}
	if rep.stale {
		warn := rep.header["Warning"]
		sink.set("Warning", append(warn[:len(warn):len(warn)], `110 edgelab "Response is Stale"`))
	}
	sink.set("X-Edgelab-Pop", n.hdr.pop)
	sink.set("X-Edgelab-Node", n.hdr.node)
	sink.set1("X-Edgelab-Request-Id", t.rid)
	if fns {
		sink.set1("X-Edgelab-Functions", strings.Join(t.fns, ", "))
	}
	if rep.age > 0 {
		sink.set1("Age", strconv.Itoa(int(rep.age/time.Second)))
	}
	status = rep.status
	if status < 100 || status > 999 {
		status = http.StatusBadGateway
	}
	bodyAllowed = status != http.StatusNoContent && status != http.StatusNotModified && status >= 200
	return status, bodyAllowed
}

// headerBytes is the size of the request headers plus the query string,
// the quantity CloudFront bounds at 20,480 bytes.
func headerBytes(r *http.Request) int {
	n := len(r.URL.RawQuery) + len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// exposedHeaders copies h without the headers functions may not see.
func exposedHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if disallowedHeader(k) {
			continue
		}
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// restoreHidden returns the function's header set plus the headers that
// were hidden from it (they pass through unchanged).
func restoreHidden(orig, fromFn http.Header) http.Header {
	out := make(http.Header, len(fromFn)+2)
	for k, vs := range fromFn {
		out[http.CanonicalHeaderKey(k)] = vs
	}
	for k, vs := range orig {
		if disallowedHeader(k) {
			out[k] = vs
		}
	}
	return out
}

// disallowedHeader reports whether a header is hidden from functions
// (reference section 4, plus edgelab's own X-Edgelab-*); the list lives in
// the sandbox's rules so the node and the validator agree.
func disallowedHeader(k string) bool { return sandbox.IsDisallowedHeader(k) }

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

func clientIP(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	return remote
}
