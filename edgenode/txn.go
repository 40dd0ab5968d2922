package edgenode

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/viewerinfo"
)

// txn is one viewer request on its way through the stages, and only that
// request's state: what route picked, the request as it stands after each
// request trigger, the body, and the functions that ran.
//
//	parse (viewer.go, servehttp.go) -> route -> geo, signed URL checks
//	  -> viewer-request
//	  -> cache lookup --hit--> viewer-response -> write + log
//	       \--miss (collapsed)--> upstream: origin-request -> origin fetch
//	                              (group failover) -> origin-response
//	          -> store -> viewer-response -> write + log
//
// A txn is used by one goroutine; the front end recycles it after write.
type txn struct {
	n   *Node
	st  *state
	d   *dist
	b   *behavior
	rid string
	// in is the viewer request as parsed; req is the request the later
	// stages read: &in.req, or the one viewer-request returned.
	in  inbound
	req *edge.Request
	// body is the request body still to send upstream (nil: none);
	// bodyPrefix what of it was read for include-body.
	body       io.Reader
	bodyPrefix []byte
	// info is the invocation Info every trigger of this request shares
	// (the runner adds the event and function).
	info edge.Info
	// fns labels the functions that ran (X-Edgelab-Functions).
	fns []string
	// hit holds a cache hit's reply, so a hit allocates none.
	hit reply
	// start is when the request arrived (request latency, access log).
	start time.Time
	// hop is set at a REC: the tier request's context (tierRoute).
	hop *hop
	// vi is what is known of the viewer, once asked (viewerhdrs.go).
	vi *viewerinfo.Viewer
	// cdCookie is the continuous deployment session cookie to set ("":
	// none; staging.go).
	cdCookie string
	// errorPage is set on the inner transaction that fetches a custom
	// error response's page (errorresponse.go).
	errorPage bool
}

// txnPool recycles transactions for one front end.
type txnPool struct{ p sync.Pool }

func (tp *txnPool) get() *txn {
	if t, ok := tp.p.Get().(*txn); ok {
		return t
	}
	return &txn{fns: make([]string, 0, 4)}
}

// put recycles t once its reply is written; nothing of it may be used after.
func (tp *txnPool) put(t *txn) {
	fns := t.fns[:0]
	clear(fns[:cap(fns)])
	scratch := t.in.scratch[:0]
	*t = txn{fns: fns}
	t.in.scratch = scratch
	tp.p.Put(t)
}

// begin starts t on n: a request id and a hold on the serving state
// (released by end), whichever front end received the request.
func (t *txn) begin(n *Node) {
	t.n = n
	t.start = time.Now()
	t.rid = n.newRequestID()
	t.st = n.acquireState()
}

// end releases the transaction's hold on the serving state.
func (t *txn) end() {
	if t.st != nil {
		t.st.inflight.Add(-1)
	}
}

// serve runs the stages for the parsed request t.in; ctx bounds them (the
// viewer connection's context under net/http, the node's under the
// fasthttp front end).
func (t *txn) serve(ctx context.Context) *reply {
	if rep := t.route(); rep != nil {
		return rep
	}
	if rep := t.tierRoute(); rep != nil {
		return rep
	}
	if rep := t.tierFault(ctx); rep != nil {
		return rep // chaos: tier-latency, tier-partition
	}
	if t.hop == nil { // the PoP restricted the viewer already
		if rep := t.accessChecks(); rep != nil {
			return t.responsePolicy(t.customError(ctx, rep))
		}
	}
	if rep := t.readBody(); rep != nil {
		return rep
	}
	if t.hop != nil {
		return t.lookup(ctx) // a REC: the viewer triggers ran at the PoP
	}
	if rep := t.viewerRequest(ctx); rep != nil {
		return rep
	}
	t.addCloudFrontHeaders()
	return t.responsePolicy(t.customError(ctx, t.viewerResponse(ctx, t.lookup(ctx))))
}
