package edgenode

import (
	"fmt"
	"net/http"
	"net/netip"
)

// ServeHTTP runs one viewer request through the same stages as the
// node's own front end, for embedding the node in a net/http server. The
// request is parsed once (fromNet) and the reply written through w.
func (n *Node) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := &txn{}
	t.begin(n)
	defer t.end()
	t.in.fromNet(r)
	rep := t.serve(r.Context())
	t.writeNet(w, r.Method, rep)
}

// fromNet is the parse stage of the net/http adapter: r's path, query,
// headers (copied: r is the caller's) and body into v.
func (v *inbound) fromNet(r *http.Request) {
	v.req.Method = r.Method
	v.req.URI = r.URL.Path
	if v.req.URI == "" || v.req.URI[0] != '/' {
		v.req.URI = "/" + v.req.URI
	}
	v.req.QueryString = r.URL.RawQuery
	v.req.ClientIP = clientIP(r.RemoteAddr)
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		v.remotePort = int(ap.Port())
	}
	v.httpVersion, v.tls = fmt.Sprintf("%d.%d", r.ProtoMajor, r.ProtoMinor), r.TLS != nil
	v.uriLen, v.target = len(r.RequestURI), r.RequestURI
	lines := 0
	for _, vs := range r.Header {
		lines += len(vs)
	}
	hs := newHeaderSet(v, lines)
	for k, vs := range r.Header {
		for _, val := range vs {
			hs.add(k, val)
		}
	}
	v.host = r.Host
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		v.body, v.contentLength = r.Body, r.ContentLength
	}
}
