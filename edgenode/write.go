package edgenode

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// headerSink receives the response headers a viewer gets: the write
// stage's output, one per front end (fastSink in viewer.go, netSink).
type headerSink interface {
	// set sets a header to values that are shared (never modified).
	set(k string, vs []string)
	// set1 sets a header to one value.
	set1(k, v string)
	// setInt sets a header to a decimal number.
	setInt(k string, n int)
}

// responseHeaders passes rep's headers and the edge's own (X-Cache, Via,
// the PoP, node, request id, functions and Age) to sink, and returns the
// status to send and whether a body goes with it. rep.header's slices are
// shared with the cache: they are passed by reference and never appended
// to in place. Content-Length is left to the writer.
func (t *txn) responseHeaders(rep *reply, sink headerSink) (status int, bodyAllowed bool) {
	t.passHeaders(rep, sink)
	n := t.n
	sink.set("X-Cache", n.hdr.xCache(rep.xcache))
	if via := rep.header["Via"]; len(via) > 0 {
		sink.set("Via", append(slices.Clip(via), n.hdr.via[0]))
	} else {
		sink.set("Via", n.hdr.via)
	}
	if rep.stale {
		sink.set("Warning", append(slices.Clip(rep.header["Warning"]), `110 edgelab "Response is Stale"`))
	}
	sink.set("X-Edgelab-Pop", n.hdr.pop)
	sink.set("X-Edgelab-Node", n.hdr.node)
	sink.set1("X-Edgelab-Request-Id", t.rid)
	t.tierHeaders(rep, sink)
	if t.cdCookie != "" {
		sink.set("Set-Cookie", append(slices.Clip(rep.header["Set-Cookie"]), t.cdCookie))
	}
	if t.d != nil && t.d.src.GetStaging() && t.hop == nil {
		sink.set1(xStaging, t.d.id)
	}
	if len(t.fns) > 0 {
		sink.set1("X-Edgelab-Functions", strings.Join(t.fns, ", "))
	}
	if rep.age > 0 {
		sink.setInt("Age", int(rep.age/time.Second))
	}
	status = rep.status
	if status < 100 || status > 999 {
		status = http.StatusBadGateway
	}
	bodyAllowed = status != http.StatusNoContent && status != http.StatusNotModified && status >= 200
	return status, bodyAllowed
}

// passHeaders passes rep's own headers to sink, without the ones the edge
// sets itself and, when functions ran, the framing headers they may have
// added (the server owns those).
func (t *txn) passHeaders(rep *reply, sink headerSink) {
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
		if fns && slices.Contains(hopHeaders, k) {
			continue
		}
		sink.set(k, vs)
	}
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

func (s *netSink) setInt(k string, n int) { s.set1(k, strconv.Itoa(n)) }

// writeNet sends rep with the edge headers through net/http; method is
// the viewer's (no body for HEAD).
func (t *txn) writeNet(w http.ResponseWriter, method string, rep *reply) {
	status, bodyAllowed := t.responseHeaders(rep, &netSink{h: w.Header()})
	if bodyAllowed {
		w.Header()["Content-Length"] = []string{strconv.Itoa(len(rep.body))}
	}
	w.WriteHeader(status)
	sent := 0
	if bodyAllowed && method != http.MethodHead {
		sent, _ = w.Write(rep.body)
	}
	t.n.reqCount.inc(rep.xcache, status, t.start)
	t.logAccess(rep, status, sent)
}
