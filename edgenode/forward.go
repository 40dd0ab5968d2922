package edgenode

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/edgelab/edgelab/distribution"
	"github.com/edgelab/edgelab/edge"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// forwardPolicy is what of the viewer's request goes to the origin under
// a behavior's cache policy and origin request policy (CloudFront: every
// value in the cache key, plus what the origin request policy names).
type forwardPolicy struct {
	headers, cookies, queries forwardRule
}

// forwardRule is one section (headers, cookies or query strings).
type forwardRule struct {
	mode  string          // a distribution.Forward* behavior
	names map[string]bool // the policy's items (headers canonical)
	key   map[string]bool // the cache key's names, always forwarded
	all   bool            // the cache key takes every name ("*")
}

// alwaysForwarded are headers CloudFront sends whatever the policies say:
// the ones describing the body and the proxy chain.
var alwaysForwarded = map[string]bool{"Content-Type": true, "Content-Encoding": true, "Content-Length": true,
	"Host": true, "Via": true, "X-Forwarded-For": true}

func newForwardPolicy(cp *edgelabv1.CachePolicy, orp *edgelabv1.OriginRequestPolicy) *forwardPolicy {
	if orp == nil {
		orp = &edgelabv1.OriginRequestPolicy{}
	}
	return &forwardPolicy{
		headers: newForwardRule(orp.GetHeaderBehavior(), orp.GetHeaders(), cp.GetHeaders(), http.CanonicalHeaderKey),
		cookies: newForwardRule(orp.GetCookieBehavior(), orp.GetCookies(), cp.GetCookies(), nil),
		queries: newForwardRule(orp.GetQueryStringBehavior(), orp.GetQueryStrings(), cp.GetQueryStrings(), nil),
	}
}

func newForwardRule(mode string, items, key []string, canon func(string) string) forwardRule {
	r := forwardRule{mode: mode, names: map[string]bool{}, key: map[string]bool{}}
	if canon == nil {
		canon = func(s string) string { return s }
	}
	for _, it := range items {
		r.names[canon(it)] = true
	}
	for _, k := range key {
		r.all = r.all || k == "*"
		r.key[canon(k)] = true
	}
	return r
}

func (r *forwardRule) allows(name string) bool {
	if r.all || r.key[name] {
		return true
	}
	switch r.mode {
	case distribution.ForwardAll, distribution.ForwardAllViewer, distribution.ForwardAllViewerAndCloudFrontNamed:
		return true
	case distribution.ForwardAllExcept:
		return !r.names[name]
	case distribution.ForwardWhitelist:
		return r.names[name]
	}
	return false
}

// apply narrows req (a shallow copy the caller owns; its header map is
// shared and only read) to what the policies forward: a new header map,
// the Cookie header and the query string filtered by name.
func (fp *forwardPolicy) apply(req *edge.Request) {
	if fp == nil {
		return
	}
	h := make(http.Header, len(req.Header))
	for k, vs := range req.Header {
		switch {
		case k == "Cookie":
			if c := fp.cookies.filterCookies(vs); c != "" {
				h[k] = []string{c}
			}
		case alwaysForwarded[k] || fp.headers.allows(k):
			h[k] = vs
		}
	}
	req.Header = h
	req.QueryString = fp.queries.filterQuery(req.QueryString)
}

func (r *forwardRule) filterCookies(vs []string) string {
	var kept []string
	for _, v := range vs {
		for _, pair := range strings.Split(v, ";") {
			pair = strings.TrimSpace(pair)
			name, _, _ := strings.Cut(pair, "=")
			if pair != "" && r.allows(name) {
				kept = append(kept, pair)
			}
		}
	}
	return strings.Join(kept, "; ")
}

// filterQuery keeps the raw pairs whose (decoded) name is allowed, in order.
func (r *forwardRule) filterQuery(raw string) string {
	if raw == "" || r.mode == distribution.ForwardAll || r.all {
		return raw
	}
	var kept []string
	for _, pair := range strings.Split(raw, "&") {
		name, _, _ := strings.Cut(pair, "=")
		if n, err := url.QueryUnescape(name); err == nil && pair != "" && r.allows(n) {
			kept = append(kept, pair)
		}
	}
	return strings.Join(kept, "&")
}
