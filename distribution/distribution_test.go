package distribution_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/distribution"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

const base = `
id: demo
domains: ["demo.edgelab.test"]
origins:
  - {id: web, url: "http://127.0.0.1:9001"}
  - {id: web-b, url: "http://127.0.0.1:9002"}
originGroups:
  - {id: web-ha, primary: web, secondary: web-b}
behaviors:
`

func TestParseDemo(t *testing.T) {
	data, err := os.ReadFile("testdata/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := distribution.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if d.GetId() != "demo" || len(d.GetBehaviors()) != 2 || len(d.GetOriginGroups()) != 1 {
		t.Fatalf("unexpected %v", d)
	}
	api := d.GetBehaviors()[0]
	if got := api.GetCache().GetQueryStrings(); len(got) != 1 || got[0] != "lang" {
		t.Errorf("query strings %v", got)
	}
	if len(api.GetFunctions()) != 2 || api.GetFunctions()[0].GetEventType() != edgelabv1.EventType_EVENT_TYPE_VIEWER_REQUEST ||
		api.GetFunctions()[0].GetFunction() != "auth" || api.GetFunctions()[0].GetVersion() != 1 {
		t.Errorf("functions %v", api.GetFunctions())
	}
	def := d.GetBehaviors()[1].GetCache()
	if def.GetSet() || def.GetMinTtl().AsDuration() != 0 || def.GetDefaultTtl().AsDuration() != 24*time.Hour || def.GetMaxTtl().AsDuration() != 31536000*time.Second {
		t.Errorf("default cache %v", def)
	}
	// Round trip through ToFile.
	out, err := distribution.ToFile(d)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := distribution.Parse(out)
	if err != nil {
		t.Fatalf("re-parse of\n%s: %v", out, err)
	}
	if !proto.Equal(d, d2) {
		t.Fatalf("round trip differs:\n%v\n%v", d, d2)
	}
}

func TestParseJSON(t *testing.T) {
	js := `{"id":"j","domains":["*"],"origins":[{"id":"o","url":"https://example.com/base"}],
	"behaviors":[{"path":"default","origin":"o","functions":{"origin-request":{"function":"f","version":2}}}]}`
	d, err := distribution.Parse([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	if a := d.GetBehaviors()[0].GetFunctions()[0]; a.GetVersion() != 2 || a.GetEventType() != edgelabv1.EventType_EVENT_TYPE_ORIGIN_REQUEST {
		t.Fatalf("association %v", a)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, behaviors, want string
	}{
		{"latest", `
  - path: default
    origin: web
    functions:
      viewer-request: {function: auth, version: $LATEST}`,
			`behaviors[0].functions.viewer-request: function auth: version "$LATEST": only numbered versions can be associated`},
		{"latest word", `
  - path: default
    origin: web
    functions:
      viewer-request: {function: auth, version: latest}`,
			`behaviors[0].functions.viewer-request: function auth: version "latest": only numbered versions can be associated`},
		{"version zero", `
  - path: default
    origin: web
    functions:
      viewer-request: {function: auth, version: 0}`,
			`behaviors[0].functions.viewer-request: function auth: version 0: only numbered versions (1, 2, ...) can be associated`},
		{"version missing", `
  - path: default
    origin: web
    functions:
      viewer-request: {function: auth}`,
			`behaviors[0].functions.viewer-request: function auth: version is required: only numbered versions can be associated`},
		{"version fraction", `
  - path: default
    origin: web
    functions:
      viewer-request: {function: auth, version: 1.5}`,
			`behaviors[0].functions.viewer-request: function auth: version 1.5: only numbered versions (1, 2, ...) can be associated`},
		{"duplicate event type", `
  - path: default
    origin: web
    functions:
      viewer-request: {function: auth, version: 1}
      viewer-request: {function: other, version: 1}`,
			`parsing distribution file: yaml: unmarshal errors:
  line 15: key "viewer-request" already set in map`},
		{"unknown event type", `
  - path: default
    origin: web
    functions:
      viewer-req: {function: auth, version: 1}`,
			`behaviors[0].functions.viewer-req: unknown event type "viewer-req" (want viewer-request, origin-request, origin-response or viewer-response)`},
		{"unknown field", `
  - path: default
    origin: web
    cache: {ttl: 0s}`,
			`parsing distribution file: behaviors[0].cache.ttl: unknown field "ttl"`},
		{"field case", `
  - path: default
    origin: web
    cache: {minTtl: 0s}`,
			`parsing distribution file: behaviors[0].cache.minTtl: unknown field "minTtl" (did you mean "minTTL"?)`},
		{"bad pattern", `
  - path: "api/*"
    origin: web
  - path: default
    origin: web`,
			`behaviors[0].path: path pattern "api/*" must start with "/" or "*" (or be "default")`},
		{"bad pattern char", `
  - path: "/a b"
    origin: web
  - path: default
    origin: web`,
			`behaviors[0].path: path pattern "/a b" has a character CloudFront does not allow (allowed: letters, digits, _ - . * $ / ~ " ' @ : + & ? % =)`},
		{"unknown origin", `
  - path: default
    origin: nowhere`,
			`behaviors[0].origin: unknown origin or origin group "nowhere"`},
		{"default not last", `
  - path: default
    origin: web
  - path: "/x"
    origin: web`,
			"behaviors[0].path: the \"default\" behavior must be the last one\nbehaviors[1].path: the last behavior must have path \"default\" (the catch-all), found \"/x\""},
		{"no default", `
  - path: "/x"
    origin: web`,
			`behaviors[0].path: the last behavior must have path "default" (the catch-all), found "/x"`},
		{"ttl order", `
  - path: default
    origin: web
    cache: {minTTL: 1h, defaultTTL: 1m, maxTTL: 24h}`,
			`behaviors[0].cache: TTLs must satisfy minTTL <= defaultTTL <= maxTTL (got 1h, 1m, 24h)`},
		{"bad duration", `
  - path: default
    origin: web
    cache: {maxTTL: 3600}`,
			`behaviors[0].cache.maxTTL: 3600 is not a duration; write a Go duration string such as "0s", "90s" or "24h"`},
		{"too many query strings", `
  - path: default
    origin: web
    cache: {queryStrings: [a,b,c,d,e,f,g,h,i,j,k]}`,
			`behaviors[0].cache.queryStrings: 11 items, at most 10 are allowed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := distribution.Parse([]byte(base + tc.behaviors))
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tc.want {
				t.Fatalf("error\n%s\nwant\n%s", err, tc.want)
			}
		})
	}
}

func TestValidateOrigins(t *testing.T) {
	for _, tc := range []struct {
		name, file, want string
	}{
		{"failover status", `
id: d
domains: ["*"]
origins: [{id: a, url: "http://a"}, {id: b, url: "http://b"}]
originGroups: [{id: g, primary: a, secondary: b, failoverStatus: [500, 501]}]
behaviors: [{path: default, origin: g}]`, `originGroups[0].failoverStatus[1]: 501 is not allowed (allowed: 400, 403, 404, 416, 500, 502, 503, 504)`},
		{"group unknown origin", `
id: d
domains: ["*"]
origins: [{id: a, url: "http://a"}]
originGroups: [{id: g, primary: a, secondary: z}]
behaviors: [{path: default, origin: g}]`, `originGroups[0].secondary: unknown origin "z"`},
		{"bad url scheme", `
id: d
domains: ["*"]
origins: [{id: a, url: "ftp://a"}]
behaviors: [{path: default, origin: a}]`, `origins[0].url: "ftp://a": the scheme must be http or https`},
		{"duplicate origin", `
id: d
domains: ["*"]
origins: [{id: a, url: "http://a"}, {id: a, url: "http://b"}]
behaviors: [{path: default, origin: a}]`, `origins[1].id: duplicate origin id "a"`},
		{"bad id", `
id: "../x"
domains: ["*"]
origins: [{id: a, url: "http://a"}]
behaviors: [{path: default, origin: a}]`, `id: "../x" is not a valid id: use 1-64 letters, digits, '-' or '_', starting with a letter or digit`},
		{"bad domain", `
id: d
domains: ["bad domain"]
origins: [{id: a, url: "http://a"}]
behaviors: [{path: default, origin: a}]`, `domains[0]: "bad domain" is not a valid host name (use letters, digits and '-', or "*." as a prefix, or "*")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := distribution.Parse([]byte(tc.file))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error\n%v\nwant\n%s", err, tc.want)
			}
		})
	}
}

// Validate also guards distributions that did not come from a file (gRPC).
func TestValidateDuplicateEventTypeProto(t *testing.T) {
	d := &edgelabv1.Distribution{Id: "d", Domains: []string{"*"}, Origins: []*edgelabv1.Origin{{Id: "a", Url: "http://a"}},
		Behaviors: []*edgelabv1.Behavior{{Path: "default", Origin: "a", Functions: []*edgelabv1.Association{
			{EventType: edgelabv1.EventType_EVENT_TYPE_VIEWER_REQUEST, Function: "f", Version: 1},
			{EventType: edgelabv1.EventType_EVENT_TYPE_VIEWER_REQUEST, Function: "g", Version: 1},
			{Function: "h", Version: 1},
		}}}}
	err := distribution.Validate(d)
	want := "behaviors[0].functions.viewer-request: duplicate association: at most one function per event type\n" +
		`behaviors[0].functions: association of function "h" has no event type`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"default", "/anything", true},
		{"/api/*", "/api/", true},
		{"/api/*", "/api/v1/users", true},
		{"/api/*", "/API/v1", false},
		{"/api/*", "/api", false},
		{"*.jpg", "/img/a/b.jpg", true},
		{"*.jpg", "/img/a/b.jpeg", false},
		{"/a?c", "/abc", true},
		{"/a?c", "/ac", false},
		{"/a?c", "/abbc", false},
		{"/*/x/*", "/a/b/x/c", true},
		{"/exact", "/exact", true},
		{"/exact", "/exact/", false},
		{"/**", "/", true},
		{"/*a*a*a*a*a*b", "/" + strings.Repeat("a", 2000), false},
	} {
		if got := distribution.Match(tc.pattern, tc.path); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}

func TestSelectBehavior(t *testing.T) {
	d, err := distribution.Parse([]byte(base + `
  - {path: "/api/*", origin: web-ha}
  - {path: "*.jpg", origin: web-b}
  - {path: default, origin: web}`))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/api/x.jpg": "/api/*", "/a.jpg": "*.jpg", "/": "default"} {
		if got := distribution.SelectBehavior(d, path).GetPath(); got != want {
			t.Errorf("SelectBehavior(%q) = %q, want %q", path, got, want)
		}
	}
	if distribution.SelectBehavior(&edgelabv1.Distribution{}, "/") != nil {
		t.Error("empty distribution selected a behavior")
	}
}

// globRE is a reference implementation for FuzzMatch.
func globRE(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^`)
	for _, r := range []byte(pattern) {
		switch r {
		case '*':
			b.WriteString(`(?s:.*)`)
		case '?':
			b.WriteString(`(?s:.)`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

func FuzzMatch(f *testing.F) {
	f.Add("/api/*", "/api/v1")
	f.Add("*.jpg", "/a.jpg")
	f.Add("/a?c*", "/abcdef")
	f.Fuzz(func(t *testing.T, pattern, path string) {
		if len(pattern) > 64 || len(path) > 256 || pattern == distribution.DefaultPath {
			return
		}
		// The reference works on bytes; keep to ASCII so '?' means one byte in both.
		for _, s := range []string{pattern, path} {
			for i := 0; i < len(s); i++ {
				if s[i] >= 0x80 {
					return
				}
			}
		}
		got := distribution.Match(pattern, path)
		want := globRE(pattern).MatchString(path)
		if got != want {
			t.Fatalf("Match(%q, %q) = %v, reference says %v", pattern, path, got, want)
		}
	})
}

func TestMatchInvalidation(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"default", "/anything", true},
		{"*", "/a/b", true},
		{"/*", "/", true},
		{"/images/*", "/images/a.png", true},
		{"/images/*", "/images", false},
		{"images/*", "/images/x/y.png", true},
		{"/images/*.jpg", "/images/a/b.jpg", true},
		{"/images/*.jpg", "/images/a/b.png", false},
		{"/a?c", "/abc", true},
		{"/a?c", "/ac", false},
		{"/API/*", "/api/x", false},
		{"/exact", "/exact", true},
		{"exact", "/exact", true},
		{"/exact", "/exact/", false},
		{"/*a*a*a*a*a*a*a*b", "/" + strings.Repeat("a", 5000), false},
		{"", "/", false},
	}
	for _, tc := range tests {
		if got := distribution.MatchInvalidation(tc.pattern, tc.path); got != tc.want {
			t.Errorf("MatchInvalidation(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}

func FuzzMatchInvalidation(f *testing.F) {
	for _, s := range [][2]string{{"/images/*", "/images/a.png"}, {"*a*b?c", "/xaybzc"}, {"default", "/"}, {"", ""}, {"exact", "/exact"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		if len(pattern) > 200 || len(path) > 2000 {
			return
		}
		got := distribution.MatchInvalidation(pattern, path)
		// A pattern without wildcards matches only itself (with the leading slash rule).
		if !strings.ContainsAny(pattern, "*?") && pattern != distribution.DefaultPath && pattern != "" {
			p := pattern
			if p[0] != '/' {
				p = "/" + p
			}
			if got != (p == path) {
				t.Fatalf("MatchInvalidation(%q, %q) = %v", pattern, path, got)
			}
		}
	})
}
