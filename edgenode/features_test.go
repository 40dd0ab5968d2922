package edgenode

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/edgelab/edgelab/distribution"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/viewerinfo"
)

// policyOrigin answers 200 with Cache-Control max-age=60 ("/status/N":
// N; "/errors/*": a page) and records the last request's headers and query.
type policyOrigin struct {
	*countingOrigin
	mu     sync.Mutex
	header http.Header
	query  string
	paths  map[string]int
}

func newPolicyOrigin(t *testing.T) *policyOrigin {
	ro := &policyOrigin{paths: map[string]int{}}
	ro.countingOrigin = newCountingOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		ro.mu.Lock()
		ro.header, ro.query = r.Header.Clone(), r.URL.RawQuery
		ro.paths[r.URL.Path]++
		ro.mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/errors/") {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, "custom page %s", r.URL.Path)
			return
		}
		okHandler("max-age=60")(w, r)
	})
	return ro
}

func (ro *policyOrigin) last() (http.Header, string) {
	ro.mu.Lock()
	defer ro.mu.Unlock()
	return ro.header, ro.query
}

func (ro *policyOrigin) hitsOf(path string) int {
	ro.mu.Lock()
	defer ro.mu.Unlock()
	return ro.paths[path]
}

// applyFile parses a distribution file (origin "web" at url) and applies
// it to n with the function versions its behaviors name.
func applyFile(t *testing.T, n *Node, url, body string) {
	t.Helper()
	d, err := distribution.Parse([]byte("id: d\ndomains: [\"*\"]\norigins: [{id: web, url: \"" + url + "\"}]\n" + body))
	if err != nil {
		t.Fatal(err)
	}
	snap := &edgelabv1.Snapshot{Revision: 1, Distributions: []*edgelabv1.Distribution{d}}
	seen := map[string]bool{}
	for _, b := range d.GetBehaviors() {
		for _, a := range b.GetFunctions() {
			if !seen[a.GetFunction()] {
				seen[a.GetFunction()] = true
				snap.Functions = append(snap.Functions, &edgelabv1.FunctionVersion{Name: a.GetFunction(), Version: a.GetVersion(), Sha256: a.GetFunction(),
					Files: []*edgelabv1.SourceFile{{Name: a.GetFunction() + ".go", Content: []byte("package " + a.GetFunction())}}})
			}
		}
	}
	if err := n.Apply(context.Background(), snap, nil); err != nil {
		t.Fatal(err)
	}
}

func TestCloudFrontHeadersAndOriginRequestPolicy(t *testing.T) {
	o := newPolicyOrigin(t)
	db, err := viewerinfo.Parse([]byte("ranges: [{cidr: 127.0.0.0/8, country: BR, city: Sao Paulo}]"))
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, newFakeRunner(), func(c *Config) { c.ViewerLocations = db })
	applyFile(t, n, o.URL, `
cachePolicies:
  - {name: by-country, defaultTTL: 60s, headers: [CloudFront-Viewer-Country], queryStrings: [lang]}
originRequestPolicies:
  - name: device
    headers: {behavior: whitelist, items: [X-Keep, CloudFront-Is-Mobile-Viewer, CloudFront-Viewer-Address]}
    cookies: {behavior: whitelist, items: [session]}
behaviors:
  - {path: "/legacy/*", origin: web}
  - {path: "/all/*", origin: web, cachePolicy: CachingOptimized, originRequestPolicy: AllViewerAndCloudFrontHeaders-2022-06}
  - {path: default, origin: web, cachePolicy: by-country, originRequestPolicy: device}
`)
	mobile := "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"
	steps := []struct {
		name, path string
		hdr        map[string]string
		xcache     string
		want       map[string]string // "" = must be absent
		wantQuery  string
	}{
		{"override header picks the country; policy narrows the rest", "/p?lang=en&utm=x",
			map[string]string{viewerinfo.OverrideHeader: "JP", "X-Keep": "1", "X-Drop": "1", "User-Agent": mobile, "Cookie": "session=s1; track=t1"},
			"Miss", map[string]string{"Cloudfront-Viewer-Country": "JP", "Cloudfront-Is-Mobile-Viewer": "true", "X-Keep": "1", "X-Drop": "",
				"Cookie": "session=s1", "Cloudfront-Is-Desktop-Viewer": "", "X-Edgelab-Viewer-Country": ""}, "lang=en"},
		{"same country: hit", "/p?lang=en", map[string]string{viewerinfo.OverrideHeader: "JP"}, "Hit", nil, ""},
		{"address range decides without the override; the viewer's own CloudFront header is replaced", "/p?lang=en",
			map[string]string{"Cloudfront-Viewer-Country": "FR"}, "Miss", map[string]string{"Cloudfront-Viewer-Country": "BR"}, "lang=en"},
		{"no policy: everything forwarded, no CloudFront headers", "/legacy/a?utm=x",
			map[string]string{"X-Drop": "1", "Cloudfront-Viewer-Country": "FR"}, "Miss", map[string]string{"X-Drop": "1", "Cloudfront-Viewer-Country": ""}, "utm=x"},
		{"managed AllViewerAndCloudFrontHeaders-2022-06", "/all/a?utm=x",
			map[string]string{"X-Drop": "1"}, "Miss", map[string]string{"X-Drop": "1", "Cloudfront-Viewer-Country": "BR", "Cloudfront-Viewer-City": "Sao Paulo",
				"Cloudfront-Is-Desktop-Viewer": "true", "Cloudfront-Forwarded-Proto": "http", "Cloudfront-Viewer-Http-Version": "1.1"}, "utm=x"},
	}
	for _, s := range steps {
		r := do(t, n, "GET", s.path, s.hdr, "")
		if r.status != 200 || xcache(r) != s.xcache {
			t.Fatalf("%s: %d %q, want 200 %q", s.name, r.status, xcache(r), s.xcache)
		}
		if s.want == nil {
			continue
		}
		h, q := o.last()
		for k, v := range s.want {
			if got := h.Get(k); got != v {
				t.Errorf("%s: origin saw %s=%q, want %q", s.name, k, got, v)
			}
		}
		if q != s.wantQuery {
			t.Errorf("%s: origin saw query %q, want %q", s.name, q, s.wantQuery)
		}
	}
	h, _ := o.last()
	if addr := h.Get("Cloudfront-Viewer-Address"); !strings.HasPrefix(addr, "127.0.0.1:") || addr == "127.0.0.1:0" {
		t.Errorf("CloudFront-Viewer-Address %q, want 127.0.0.1:<port>", addr)
	}
}

func TestRegionIsTheDefaultViewerCountry(t *testing.T) {
	o := newPolicyOrigin(t)
	n := startNode(t, newFakeRunner(), func(c *Config) { c.Region = "eu-central-1" })
	applyFile(t, n, o.URL, "behaviors: [{path: default, origin: web, originRequestPolicy: AllViewerAndCloudFrontHeaders-2022-06}]\n")
	do(t, n, "GET", "/x", nil, "")
	if h, _ := o.last(); h.Get("Cloudfront-Viewer-Country") != "DE" || h.Get("Cloudfront-Viewer-Time-Zone") != "Europe/Berlin" {
		t.Errorf("origin saw country %q, zone %q; want DE, Europe/Berlin", h.Get("Cloudfront-Viewer-Country"), h.Get("Cloudfront-Viewer-Time-Zone"))
	}
}

func TestViewerRequestMayNotSetCloudFrontHeaders(t *testing.T) {
	o := newPolicyOrigin(t)
	fr := newFakeRunner()
	fr.handlers["vr"] = func(inv sandbox.Invocation) sandbox.Result {
		inv.Request.Header.Set("CloudFront-Viewer-Country", "US")
		return cont(inv)
	}
	n := startNode(t, fr, nil)
	applyFile(t, n, o.URL, "behaviors: [{path: default, origin: web, functions: {viewer-request: {function: vr, version: 1}}}]\n")
	if r := do(t, n, "GET", "/x", nil, ""); r.status != 502 || xcache(r) != "LambdaValidationError" {
		t.Fatalf("got %d %q, want 502 LambdaValidationError", r.status, xcache(r))
	}
	if o.hits.Load() != 0 {
		t.Error("the origin was asked")
	}
}

func TestGeoRestriction(t *testing.T) {
	o := newPolicyOrigin(t)
	n := startNode(t, newFakeRunner(), nil)
	for _, tc := range []struct {
		file    string
		country string
		status  int
	}{
		{"geoRestriction: {restrictionType: denylist, countries: [JP, KP]}", "JP", 403},
		{"geoRestriction: {restrictionType: denylist, countries: [JP, KP]}", "US", 200},
		{"geoRestriction: {restrictionType: allowlist, countries: [US]}", "DE", 403},
		{"geoRestriction: {restrictionType: allowlist, countries: [US]}", "US", 200},
		{"geoRestriction: {restrictionType: allowlist, countries: [US]}", "", 200}, // node region us-east-1
		{"geoRestriction: {restrictionType: none}", "JP", 200},
		{"geoRestriction: {restrictionType: denylist, countries: [US]}", "<script>", 403}, // a bad override is ignored: the region's US
	} {
		applyFile(t, n, o.URL, tc.file+"\nbehaviors: [{path: default, origin: web}]\n")
		hdr := map[string]string{}
		if tc.country != "" {
			hdr[viewerinfo.OverrideHeader] = tc.country
		}
		r := do(t, n, "GET", "/geo", hdr, "")
		if r.status != tc.status {
			t.Errorf("%s, viewer in %q: %d, want %d", tc.file, tc.country, r.status, tc.status)
		}
		if tc.status == 403 && (xcache(r) != "Error" || !strings.Contains(r.body, "block access from your country")) {
			t.Errorf("%s: refusal %q %q, want CloudFront's geo error page", tc.file, xcache(r), r.body)
		}
	}
}

func TestCustomErrorResponses(t *testing.T) {
	o := newPolicyOrigin(t)
	n := startNode(t, newFakeRunner(), nil)
	applyFile(t, n, o.URL, `
geoRestriction: {restrictionType: denylist, countries: [KP]}
customErrorResponses:
  - {errorCode: 404, responsePagePath: /errors/404.html, responseCode: 200}
  - {errorCode: 403, responsePagePath: /errors/403.html}
  - {errorCode: 503, errorCachingMinTTL: 0s}
behaviors:
  - {path: default, origin: web}
`)
	for i := range 2 {
		r := do(t, n, "GET", "/status/404", nil, "")
		if r.status != 200 || r.body != "custom page /errors/404.html" || xcache(r) != "Error" {
			t.Fatalf("request %d: %d %q %q, want 200 with the custom page", i, r.status, xcache(r), r.body)
		}
	}
	if o.hitsOf("/status/404") != 1 || o.hitsOf("/errors/404.html") != 1 {
		t.Errorf("origin hits: error %d, page %d; want 1 and 1 (both cached)", o.hitsOf("/status/404"), o.hitsOf("/errors/404.html"))
	}
	r := do(t, n, "GET", "/g", map[string]string{viewerinfo.OverrideHeader: "KP"}, "")
	if r.status != 403 || r.body != "custom page /errors/403.html" {
		t.Errorf("geo refusal: %d %q, want 403 with the custom page", r.status, r.body)
	}
	for range 2 {
		if r := do(t, n, "GET", "/status/503", nil, ""); r.status != 503 {
			t.Fatalf("503: got %d", r.status)
		}
	}
	if got := o.hitsOf("/status/503"); got != 2 {
		t.Errorf("errorCachingMinTTL 0s: origin asked %d times, want 2 (not cached)", got)
	}
	for range 2 {
		do(t, n, "GET", "/status/500", nil, "")
	}
	if got := o.hitsOf("/status/500"); got != 1 {
		t.Errorf("500 without a custom error response: origin asked %d times, want 1 (10 s default)", got)
	}
}

func TestResponseHeadersPolicy(t *testing.T) {
	o := newPolicyOrigin(t)
	n := startNode(t, newFakeRunner(), nil)
	applyFile(t, n, o.URL, `
responseHeadersPolicies:
  - name: app
    cors: {allowOrigins: ["https://app.example"], allowMethods: [GET, POST], allowHeaders: [X-Token], maxAgeSeconds: 600}
    securityHeaders: [{name: X-Frame-Options, value: DENY, override: true}]
    customHeaders: [{name: Cache-Control, value: no-cache}, {name: X-Served-By, value: edgelab}]
    removeHeaders: [Content-Type]
    serverTiming: true
behaviors:
  - {path: "/sec/*", origin: web, responseHeadersPolicy: SecurityHeadersPolicy}
  - {path: default, origin: web, responseHeadersPolicy: app}
`)
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
		want               map[string]string // "" = absent
	}{
		{"custom, security, removed, timing; the origin's own header kept without override", "GET", "/a", map[string]string{"Origin": "https://app.example"},
			map[string]string{"X-Frame-Options": "DENY", "X-Served-By": "edgelab", "Cache-Control": "max-age=60", "Content-Type": "",
				"Server-Timing": `cdn-cache-miss, cdn-pop;desc="IAD"`, "Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Methods": ""}},
		{"a hit gets the same headers", "GET", "/a", nil,
			map[string]string{"X-Served-By": "edgelab", "Server-Timing": `cdn-cache-hit, cdn-pop;desc="IAD"`, "Access-Control-Allow-Origin": ""}},
		{"an origin the policy does not allow", "GET", "/a", map[string]string{"Origin": "https://evil.example"},
			map[string]string{"Access-Control-Allow-Origin": ""}},
		{"preflight", "OPTIONS", "/a", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
			map[string]string{"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Methods": "GET, POST",
				"Access-Control-Allow-Headers": "X-Token", "Access-Control-Max-Age": "600"}},
		{"managed SecurityHeadersPolicy", "GET", "/sec/a", nil,
			map[string]string{"Strict-Transport-Security": "max-age=31536000", "X-Content-Type-Options": "nosniff",
				"X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "strict-origin-when-cross-origin", "X-Xss-Protection": "1; mode=block"}},
	} {
		r := do(t, n, tc.method, tc.path, tc.hdr, "")
		for k, v := range tc.want {
			if got := r.header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", tc.name, k, got, v)
			}
		}
	}
}
