package edgenode

import (
	"net/http"

	"github.com/edgelab/edgelab/sandbox"
)

// exposedHeaders copies response headers without the ones functions may
// not see (the viewer's request headers lose them when parsed).
func exposedHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if sandbox.IsDisallowedHeader(k) {
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
		if sandbox.IsDisallowedHeader(k) {
			out[k] = vs
		}
	}
	return out
}
