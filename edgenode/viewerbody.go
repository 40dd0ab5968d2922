package edgenode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
)

// A viewer request's framing is checked by the fasthttp front end before
// anything of it goes to the origin:
//
//	headers ──> Content-Length and Transfer-Encoding both? ──> 400
//	        ──> Content-Length over MaxBodyBytes? ─────────> 413
//	chunked ──> pre-read chunkPreRead bytes (header deadline)
//	             ├─ framing broken or over MaxBodyBytes ────> 400 / 413
//	             ├─ body ended: sent with a Content-Length
//	             └─ longer: the rest streams through viewerBody; a
//	                break later aborts the origin upload (the origin never
//	                receives a complete request) and the viewer gets 400 / 413

// chunkPreRead is how much of a chunked body is read, and its framing
// checked, before the pipeline starts.
const chunkPreRead = 64 << 10

// refusal is a viewer request the edge answers itself, without the
// pipeline: status and the reason shown on the error page.
type refusal struct {
	status int
	reason string
	// err is the cause (nil: none).
	err error
}

func (r *refusal) Error() string {
	if r.err != nil {
		return fmt.Sprintf("%d %s: %v", r.status, r.reason, r.err)
	}
	return fmt.Sprintf("%d %s", r.status, r.reason)
}

func (r *refusal) Unwrap() error { return r.err }

func (r *refusal) reply(rid string) *reply { return errorReply(r.status, xError, r.reason, rid) }

var (
	errAmbiguousFraming = &refusal{status: http.StatusBadRequest, reason: "Bad request. Content-Length and Transfer-Encoding together."}
	errBodyTooLarge     = &refusal{status: http.StatusRequestEntityTooLarge, reason: "Request body too large."}
)

// malformedBody is the refusal of a chunked body whose framing broke.
func malformedBody(err error) *refusal {
	return &refusal{status: http.StatusBadRequest, reason: "Bad request. Malformed chunked body.", err: err}
}

// viewerBody reads a chunked viewer body, refusing it (a *refusal error)
// once its framing breaks or it grows past limit. The refusal is kept,
// so the stage that fails because of it answers with it (bodyFault). Read
// is called by one goroutine at a time (the origin transport's writer,
// which may outlive the round trip); err may be read concurrently.
type viewerBody struct {
	r     io.Reader
	limit int64
	read  int64
	err   atomic.Pointer[refusal]
}

func (b *viewerBody) Read(p []byte) (int, error) {
	if r := b.err.Load(); r != nil {
		return 0, r
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	var r *refusal
	switch {
	case b.read > b.limit:
		r = errBodyTooLarge
	case err != nil && !errors.Is(err, io.EOF):
		r = malformedBody(err)
	}
	if r != nil {
		b.err.Store(r)
		return n, r
	}
	return n, err
}

// preRead reads up to chunkPreRead bytes of the body. A body that ended is
// returned whole (rest nil); a longer one as its start and the reader of
// the rest. A broken or oversized body is the refusal.
func (b *viewerBody) preRead() (start []byte, rest io.Reader, err error) {
	start, err = io.ReadAll(io.LimitReader(b, chunkPreRead+1))
	if err != nil {
		return nil, nil, err
	}
	if len(start) <= chunkPreRead {
		return start, nil, nil
	}
	return start, io.MultiReader(bytes.NewReader(start), b), nil
}

// bodyFault is the refusal a chunked viewer body ended with (nil: none,
// or no such body).
func (v *inbound) bodyFault() *refusal {
	if v.vbody == nil {
		return nil
	}
	return v.vbody.err.Load()
}
