package edgenode

import (
	"net/http"
	"strconv"
	"strings"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// responsePolicy is the response headers policy stage, the last before
// write: CORS, security and custom headers (each kept when the response
// already has it, unless the policy overrides), headers removed, and
// Server-Timing. rep is not modified (it may be the cache's): a changed
// answer is a new reply.
func (t *txn) responsePolicy(rep *reply) *reply {
	if t.b == nil || t.b.respPolicy == nil {
		return rep
	}
	p := t.b.respPolicy
	h := rep.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if c := p.GetCors(); c != nil {
		t.corsHeaders(h, c)
	}
	for _, list := range [][]*edgelabv1.ResponseHeader{p.GetSecurityHeaders(), p.GetCustomHeaders()} {
		for _, rh := range list {
			k := http.CanonicalHeaderKey(rh.GetName())
			if _, has := h[k]; !has || rh.GetOverride() {
				h[k] = []string{rh.GetValue()}
			}
		}
	}
	for _, k := range p.GetRemoveHeaders() {
		delete(h, http.CanonicalHeaderKey(k))
	}
	if p.GetServerTiming() {
		h.Add("Server-Timing", "cdn-cache-"+strings.ToLower(rep.xcache)+`, cdn-pop;desc="`+t.n.cfg.PoP+`"`)
	}
	out := *rep
	out.header = h
	return &out
}

// corsHeaders adds the CORS response headers for a request with an Origin
// the policy allows (the preflight ones for an OPTIONS preflight); with
// originOverride unset, an origin's own CORS answer is kept.
func (t *txn) corsHeaders(h http.Header, c *edgelabv1.CorsConfig) {
	origin := t.req.Header.Get("Origin")
	if origin == "" || (!c.GetOriginOverride() && h.Get("Access-Control-Allow-Origin") != "") {
		return
	}
	switch {
	case contains(c.GetAllowOrigins(), "*"):
		h.Set("Access-Control-Allow-Origin", "*")
	case contains(c.GetAllowOrigins(), origin):
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	default:
		return
	}
	if c.GetAllowCredentials() {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(c.GetExposeHeaders()) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.GetExposeHeaders(), ", "))
	}
	if t.req.Method != http.MethodOptions || t.req.Header.Get("Access-Control-Request-Method") == "" {
		return
	}
	if methods := c.GetAllowMethods(); len(methods) > 0 {
		if contains(methods, "ALL") {
			methods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}
		}
		h.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
	}
	if len(c.GetAllowHeaders()) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(c.GetAllowHeaders(), ", "))
	}
	if c.GetMaxAgeSeconds() > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(c.GetMaxAgeSeconds())))
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
