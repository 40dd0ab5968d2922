package distribution_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/distribution"
)

const featured = base + `
  - path: "/api/*"
    origin: web-ha
    cachePolicy: CachingDisabled
    originRequestPolicy: AllViewer
  - path: "/img/*"
    origin: web
    cachePolicy: short
    originRequestPolicy: device
  - path: default
    origin: web
cachePolicies:
  - {name: short, minTTL: 0s, defaultTTL: 60s, maxTTL: 1h, queryStrings: [lang], headers: [CloudFront-Viewer-Country]}
originRequestPolicies:
  - name: device
    headers: {behavior: allViewerAndWhitelistCloudFront, items: [CloudFront-Is-Mobile-Viewer]}
    cookies: {behavior: whitelist, items: [session]}
geoRestriction: {restrictionType: denylist, countries: [KP, IR]}
customErrorResponses:
  - {errorCode: 404, responsePagePath: /errors/404.html, responseCode: 404, errorCachingMinTTL: 30s}
  - {errorCode: 503}
`

func TestParsePoliciesAndFeatures(t *testing.T) {
	d, err := distribution.Parse([]byte(featured))
	if err != nil {
		t.Fatal(err)
	}
	api, img, def := d.GetBehaviors()[0], d.GetBehaviors()[1], d.GetBehaviors()[2]
	if cp := distribution.CachePolicyFor(d, api); cp.GetName() != "CachingDisabled" || cp.GetMaxTtl().AsDuration() != 0 {
		t.Errorf("managed CachingDisabled resolved to %v", cp)
	}
	if cp := distribution.CachePolicyFor(d, img); cp.GetName() != "short" || cp.GetDefaultTtl().AsDuration() != time.Minute || cp.GetHeaders()[0] != "CloudFront-Viewer-Country" {
		t.Errorf("named cache policy resolved to %v", cp)
	}
	if cp := distribution.CachePolicyFor(d, def); cp.GetSet() || cp.GetDefaultTtl().AsDuration() != 24*time.Hour {
		t.Errorf("default behavior's cache %v", cp)
	}
	if op := distribution.OriginRequestPolicyFor(d, api); op.GetHeaderBehavior() != "allViewer" || op.GetCookieBehavior() != "all" || op.GetQueryStringBehavior() != "all" {
		t.Errorf("managed AllViewer resolved to %v", op)
	}
	if op := distribution.OriginRequestPolicyFor(d, img); op.GetCookies()[0] != "session" || op.GetQueryStringBehavior() != "none" {
		t.Errorf("named origin request policy resolved to %v", op)
	}
	if distribution.OriginRequestPolicyFor(d, def) != nil {
		t.Error("a behavior without originRequestPolicy has one")
	}
	if !distribution.GeoAllowed(d.GetGeoRestriction(), "US") || distribution.GeoAllowed(d.GetGeoRestriction(), "KP") {
		t.Error("deny list")
	}
	ers := d.GetCustomErrorResponses()
	if len(ers) != 2 || distribution.ErrorCachingMinTTL(ers[0]) != 30*time.Second || distribution.ErrorCachingMinTTL(ers[1]) != distribution.DefaultErrorCachingMinTTL {
		t.Errorf("custom error responses %v", ers)
	}
	out, err := distribution.ToFile(d)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := distribution.Parse(out)
	if err != nil {
		t.Fatalf("re-parse of\n%s: %v", out, err)
	}
	if !proto.Equal(d, d2) {
		t.Errorf("round trip differs:\n%s", out)
	}
}

func TestManagedPoliciesResolve(t *testing.T) {
	for _, name := range distribution.ManagedCachePolicies() {
		d, err := distribution.Parse([]byte(base + "  - {path: default, origin: web, cachePolicy: " + name + "}\n"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if cp := distribution.CachePolicyFor(d, d.GetBehaviors()[0]); cp.GetName() != name {
			t.Errorf("%s resolved to %v", name, cp)
		}
	}
	for _, name := range distribution.ManagedOriginRequestPolicies() {
		d, err := distribution.Parse([]byte(base + "  - {path: default, origin: web, originRequestPolicy: " + name + "}\n"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if op := distribution.OriginRequestPolicyFor(d, d.GetBehaviors()[0]); op.GetName() != name {
			t.Errorf("%s resolved to %v", name, op)
		}
	}
	d, _ := distribution.Parse([]byte(base + "  - {path: default, origin: web, originRequestPolicy: CORS-S3Origin}\n"))
	if got := distribution.OriginRequestPolicyFor(d, d.GetBehaviors()[0]).GetHeaders(); strings.Join(got, ",") != "Origin,Access-Control-Request-Headers,Access-Control-Request-Method" {
		t.Errorf("CORS-S3Origin headers %v", got)
	}
}

func TestPolicyAndFeatureErrors(t *testing.T) {
	def := "  - {path: default, origin: web}\n"
	for _, tc := range []struct{ name, in, want string }{
		{"unknown managed cache policy", base + "  - {path: default, origin: web, cachePolicy: CachingOptimised}\n", `behaviors[0].cachePolicy: unknown cache policy "CachingOptimised"`},
		{"unknown origin request policy", base + "  - {path: default, origin: web, originRequestPolicy: AllViewers}\n", `behaviors[0].originRequestPolicy: unknown origin request policy "AllViewers"`},
		{"cache and cachePolicy", base + "  - {path: default, origin: web, cachePolicy: CachingOptimized, cache: {minTTL: 0s}}\n", "behaviors[0]: cache and cachePolicy are exclusive"},
		{"policy named like a managed one", base + def + "cachePolicies: [{name: CachingDisabled}]\n", "cachePolicies[0].name: \"CachingDisabled\" is the name of a managed policy"},
		{"duplicate policy", base + def + "cachePolicies: [{name: a}, {name: a}]\n", "cachePolicies[1].name: duplicate policy name"},
		{"cache policy TTL order", base + def + "cachePolicies: [{name: a, minTTL: 1h, defaultTTL: 1s}]\n", "cachePolicies[0]: TTLs must satisfy"},
		{"bad header behavior", base + def + "originRequestPolicies: [{name: a, headers: {behavior: everything}}]\n", "originRequestPolicies[0].headers.behavior: \"everything\" is not a behavior"},
		{"whitelist without items", base + def + "originRequestPolicies: [{name: a, cookies: {behavior: whitelist}}]\n", "originRequestPolicies[0].cookies.items: behavior whitelist needs at least one item"},
		{"not a CloudFront header", base + def + "originRequestPolicies: [{name: a, headers: {behavior: allViewerAndWhitelistCloudFront, items: [X-Foo]}}]\n", "originRequestPolicies[0].headers.items[0]: \"X-Foo\" is not a CloudFront header"},
		{"unknown country", base + def + "geoRestriction: {restrictionType: allowlist, countries: [US, XX]}\n", "geoRestriction.countries[1]: \"XX\" is not an ISO 3166-1 alpha-2 country code"},
		{"lower-case country", base + def + "geoRestriction: {restrictionType: denylist, countries: [us]}\n", "geoRestriction.countries[0]: \"us\" is not"},
		{"bad restriction type", base + def + "geoRestriction: {restrictionType: block, countries: [US]}\n", "geoRestriction.restrictionType: \"block\""},
		{"allow list without countries", base + def + "geoRestriction: {restrictionType: allowlist}\n", "geoRestriction.countries: restrictionType allowlist needs"},
		{"error code not allowed", base + def + "customErrorResponses: [{errorCode: 418}]\n", "customErrorResponses[0].errorCode: 418 cannot have"},
		{"response code without page", base + def + "customErrorResponses: [{errorCode: 404, responseCode: 200}]\n", "customErrorResponses[0].responsePagePath: a responseCode needs a responsePagePath"},
		{"page path not a path", base + def + "customErrorResponses: [{errorCode: 404, responsePagePath: errors/404.html}]\n", "customErrorResponses[0].responsePagePath: \"errors/404.html\" is not a page path"},
		{"page behind a behavior without GET", base + "  - {path: \"/errors/*\", origin: web, allowedMethods: [POST]}\n" + def + "customErrorResponses: [{errorCode: 404, responsePagePath: /errors/404.html}]\n", "which does not allow GET"},
		{"page behind a behavior without an origin", base + "  - {path: \"/errors/*\", origin: gone}\n" + def + "customErrorResponses: [{errorCode: 404, responsePagePath: /errors/404.html}]\n", "whose origin \"gone\" does not exist"},
		{"bad error caching TTL", base + def + "customErrorResponses: [{errorCode: 404, errorCachingMinTTL: 10}]\n", "customErrorResponses[0].errorCachingMinTTL: 10 is not a duration"},
		{"unknown field", base + def + "geoRestriction: {restrictionType: none, country: [US]}\n", "geoRestriction.country: unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := distribution.Parse([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse: %v\nwant an error with %q", err, tc.want)
			}
		})
	}
}

func TestResponseHeadersPolicies(t *testing.T) {
	in := base + `  - {path: "/a/*", origin: web, responseHeadersPolicy: SecurityHeadersPolicy}
  - {path: default, origin: web, responseHeadersPolicy: mine}
responseHeadersPolicies:
  - name: mine
    cors: {allowOrigins: ["https://app.example"], allowMethods: [GET, POST], allowHeaders: [X-Token], maxAgeSeconds: 600, allowCredentials: true}
    securityHeaders: [{name: Strict-Transport-Security, value: "max-age=63072000; includeSubDomains", override: true}]
    customHeaders: [{name: X-Served-By, value: edgelab}]
    removeHeaders: [Server]
    serverTiming: true
`
	d, err := distribution.Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if p := distribution.ResponseHeadersPolicyFor(d, d.GetBehaviors()[0]); len(p.GetSecurityHeaders()) != 5 {
		t.Errorf("managed SecurityHeadersPolicy resolved to %v", p)
	}
	if p := distribution.ResponseHeadersPolicyFor(d, d.GetBehaviors()[1]); p.GetCors().GetMaxAgeSeconds() != 600 || !p.GetServerTiming() {
		t.Errorf("named policy resolved to %v", p)
	}
	out, err := distribution.ToFile(d)
	if err != nil {
		t.Fatal(err)
	}
	if d2, err := distribution.Parse(out); err != nil || !proto.Equal(d, d2) {
		t.Errorf("round trip: %v\n%s", err, out)
	}
	def := "  - {path: default, origin: web}\n"
	for _, tc := range []struct{ in, want string }{
		{base + "  - {path: default, origin: web, responseHeadersPolicy: SimpleCors}\n", `behaviors[0].responseHeadersPolicy: unknown response headers policy "SimpleCors"`},
		{base + def + "responseHeadersPolicies: [{name: a, securityHeaders: [{name: X-Powered-By, value: x}]}]\n", "responseHeadersPolicies[0].securityHeaders[0].name: \"X-Powered-By\" is not a security header"},
		{base + def + "responseHeadersPolicies: [{name: a, customHeaders: [{name: \"bad name\", value: x}]}]\n", "responseHeadersPolicies[0].customHeaders[0].name"},
		{base + def + "responseHeadersPolicies: [{name: a, cors: {allowOrigins: [\"*\"], allowCredentials: true}}]\n", "responseHeadersPolicies[0].cors.allowCredentials"},
		{base + def + "responseHeadersPolicies: [{name: a, cors: {allowOrigins: [example.com]}}]\n", "responseHeadersPolicies[0].cors.allowOrigins[0]"},
		{base + def + "responseHeadersPolicies: [{name: SimpleCORS}]\n", "is the name of a managed policy"},
	} {
		if _, err := distribution.Parse([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse: %v\nwant an error with %q", err, tc.want)
		}
	}
}
