package sandbox

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/viewerinfo"
)

// Result rules (reference section 4 and 6): what a function may change and
// produce at each trigger point. A result that breaks one is turned into
// OutcomeValidationError (502 LambdaValidationError at the edge).

// MaxURIAndQueryLength bounds len(URI)+len(QueryString) after a request event.
const MaxURIAndQueryLength = 8192

// disallowedExact are headers never exposed to a function and that it may
// not add (compared case-insensitively).
var disallowedExact = []string{
	"Connection", "Expect", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Proxy-Connection", "Trailer", "Upgrade", "X-Cache", "X-Forwarded-Proto", "X-Real-Ip",
}

// disallowedPrefixes are header name prefixes treated like disallowedExact;
// X-Edgelab- protects edgelab's own response headers.
var disallowedPrefixes = []string{"X-Accel-", "X-Amz-Cf-", "X-Amzn-", "X-Edge-", "X-Edgelab-"}

// readOnly lists the read-only headers per event type.
var readOnly = map[edge.EventType][]string{
	// CloudFront adds its CloudFront-* viewer headers after viewer-request;
	// a function there may not set them.
	edge.ViewerRequest: append([]string{"Cdn-Loop", "Content-Length", "Host", "Transfer-Encoding", "Via"}, viewerinfo.Headers()...),
	edge.OriginRequest: {"Accept-Encoding", "Cdn-Loop", "Content-Length", "If-Modified-Since",
		"If-None-Match", "If-Range", "If-Unmodified-Since", "Transfer-Encoding", "Via"},
	edge.OriginResponse: {"Transfer-Encoding", "Via"},
	edge.ViewerResponse: {"Content-Encoding", "Content-Length", "Transfer-Encoding", "Via", "Warning"},
}

// DisallowedHeaders returns the disallowed header names (canonical form);
// names ending in "*" are prefixes.
func DisallowedHeaders() []string {
	out := slices.Clone(disallowedExact)
	for _, p := range disallowedPrefixes {
		out = append(out, p+"*")
	}
	return out
}

// ReadOnlyHeaders returns the read-only header names (canonical form) of
// an event type; nil for an unknown type.
func ReadOnlyHeaders(e edge.EventType) []string { return slices.Clone(readOnly[e]) }

// IsDisallowedHeader reports whether name (any case) is a disallowed header.
func IsDisallowedHeader(name string) bool {
	return isDisallowedCanonical(http.CanonicalHeaderKey(name))
}

// isDisallowedCanonical is IsDisallowedHeader of a name in canonical form.
func isDisallowedCanonical(c string) bool {
	if c == "" {
		return false
	}
	switch c[0] { // the first letters of disallowedExact and disallowedPrefixes
	case 'C', 'E', 'K', 'P', 'T', 'U', 'X':
	default:
		return false
	}
	for _, d := range disallowedExact {
		if c == d {
			return true
		}
	}
	for _, p := range disallowedPrefixes {
		if strings.HasPrefix(c, p) {
			return true
		}
	}
	return false
}

// IsReadOnlyHeader reports whether name (any case) is read-only at event e.
func IsReadOnlyHeader(e edge.EventType, name string) bool {
	return slices.Contains(readOnly[e], http.CanonicalHeaderKey(name))
}

// FilterRequestHeaders returns a copy of h, with canonical keys, without the
// disallowed headers: what a function at event e is shown of a request.
func FilterRequestHeaders(e edge.EventType, h http.Header) http.Header { return filterHeaders(h) }

// FilterResponseHeaders is FilterRequestHeaders for a response's headers.
func FilterResponseHeaders(e edge.EventType, h http.Header) http.Header { return filterHeaders(h) }

func filterHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if IsDisallowedHeader(k) {
			continue
		}
		c := http.CanonicalHeaderKey(k)
		out[c] = append(out[c], vs...)
	}
	return out
}

// RuleError is a broken result rule.
type RuleError struct {
	Event edge.EventType
	Msg   string
}

// Error formats "<event>: <msg>".
func (e *RuleError) Error() string { return string(e.Event) + ": " + e.Msg }

// ValidateResult applies the result rules to a continue or generated
// result of inv: on a violation it sets res.Outcome to
// OutcomeValidationError and res.Err to the *RuleError. Error outcomes are
// left alone.
func ValidateResult(inv Invocation, limits Limits, res *Result) {
	if res == nil || (res.Outcome != OutcomeContinue && res.Outcome != OutcomeGenerated) {
		return
	}
	if err := CheckResult(inv, limits, res); err != nil {
		res.Outcome, res.Err = OutcomeValidationError, err
	}
}

// CheckResult returns the first rule res breaks, as a *RuleError, or nil.
// A zero limit is not enforced.
func CheckResult(inv Invocation, limits Limits, res *Result) error {
	e := inv.Event
	fail := func(format string, args ...any) error {
		return &RuleError{Event: e, Msg: fmt.Sprintf(format, args...)}
	}
	if e.IsRequest() {
		if res.Response != nil {
			if err := checkGenerated(e, limits, res.Response, fail); err != nil {
				return err
			}
		}
		if res.Request != nil && res.Response == nil {
			if err := checkRequest(inv, limits, res.Request, fail); err != nil {
				return err
			}
		}
		return nil
	}
	if res.Request != nil && inv.Request != nil && res.Request.QueryString != inv.Request.QueryString {
		return fail("the query string can only be changed in request events")
	}
	if res.Response == nil {
		return nil
	}
	orig := inv.Response
	if orig == nil {
		orig = &edge.Response{}
	}
	resp := res.Response
	if resp.Status != orig.Status {
		if e == edge.ViewerResponse {
			return fail("viewer-response cannot change the status (from %d to %d)", orig.Status, resp.Status)
		}
		if resp.Status < 200 || resp.Status > 599 {
			return fail("status %d is outside 200-599", resp.Status)
		}
	}
	if err := checkHeaderChanges(e, orig.Header, resp.Header, fail); err != nil {
		return err
	}
	if len(resp.Body) > 0 {
		if resp.Status == http.StatusNoContent {
			return fail("a 204 response cannot have a body")
		}
		if n := responseSize(resp); limits.MaxGeneratedBytes > 0 && n > limits.MaxGeneratedBytes {
			return fail("response with replaced body is %d bytes (headers + body), over the %d byte limit", n, limits.MaxGeneratedBytes)
		}
	}
	return nil
}

func checkGenerated(e edge.EventType, limits Limits, resp *edge.Response, fail func(string, ...any) error) error {
	if resp.Status < 200 || resp.Status > 599 {
		return fail("generated response status %d is outside 200-599", resp.Status)
	}
	if resp.Status == http.StatusNoContent && len(resp.Body) > 0 {
		return fail("a 204 response cannot have a body")
	}
	for _, k := range sortedKeys(resp.Header) {
		if IsDisallowedHeader(k) {
			return fail("generated response sets disallowed header %s", http.CanonicalHeaderKey(k))
		}
	}
	if n := responseSize(resp); limits.MaxGeneratedBytes > 0 && n > limits.MaxGeneratedBytes {
		return fail("generated response is %d bytes (headers + body), over the %d byte limit", n, limits.MaxGeneratedBytes)
	}
	return nil
}

func checkRequest(inv Invocation, limits Limits, req *edge.Request, fail func(string, ...any) error) error {
	orig := inv.Request
	if orig == nil {
		orig = &edge.Request{}
	}
	if !strings.HasPrefix(req.URI, "/") {
		return fail("uri %q must start with \"/\"", truncate(req.URI, 64))
	}
	if n := len(req.URI) + len(req.QueryString); n > MaxURIAndQueryLength {
		return fail("uri and query string are %d characters, over the %d limit", n, MaxURIAndQueryLength)
	}
	if req.Method != orig.Method {
		return fail("the method is read-only (changed from %s to %s)", orig.Method, req.Method)
	}
	if req.ClientIP != orig.ClientIP {
		return fail("clientIp is read-only")
	}
	if err := checkHeaderChanges(inv.Event, orig.Header, req.Header, fail); err != nil {
		return err
	}
	if inv.Event == edge.OriginRequest && orig.Origin != nil && !proto.Equal(OriginToProto(orig.Origin), OriginToProto(req.Origin)) {
		if err := CheckOrigin(req.Origin); err != nil {
			return fail("%v", err)
		}
	}
	if req.Body != nil && req.Body.Replace {
		if orig.Body == nil {
			return fail("the body can only be replaced when the association includes the body")
		}
		if limits.MaxBodyBytes > 0 && len(req.Body.Data) > limits.MaxBodyBytes {
			return fail("replacement body is %d bytes, over the %d byte limit", len(req.Body.Data), limits.MaxBodyBytes)
		}
	}
	return nil
}

// checkHeaderChanges rejects changed read-only headers and added or changed
// disallowed headers. Names are compared case-insensitively, so a function
// writing a non-canonical key into the map is caught too.
//
// The common case (every key canonical, nothing forbidden touched) is
// decided without copying: with canonical keys only, a name's values are
// exactly h[name]. Any doubt (a non-canonical key, a violation) takes the
// general path, which also words the error.
func checkHeaderChanges(e edge.EventType, before, after http.Header, fail func(string, ...any) error) error {
	if headerChangesAllowedFast(e, before, after) {
		return nil
	}
	for _, name := range readOnly[e] {
		if !slices.Equal(headerValues(before, name), headerValues(after, name)) {
			return fail("read-only header %s was changed", name)
		}
	}
	for _, k := range sortedKeys(after) {
		if IsDisallowedHeader(k) && !slices.Equal(headerValues(before, k), headerValues(after, k)) {
			return fail("disallowed header %s was added or changed", http.CanonicalHeaderKey(k))
		}
	}
	return nil
}

// headerChangesAllowedFast reports true when both header sets have only
// canonical ASCII token keys (for which case-insensitive matching, Unicode
// folding included, is plain equality) and no read-only or disallowed header differs; false
// means "check the slow way", not necessarily a violation. Only keys that
// are read-only or disallowed are looked up in the other set: a read-only
// name absent from both sets is unchanged.
func headerChangesAllowedFast(e edge.EventType, before, after http.Header) bool {
	ro := readOnly[e]
	for k, vs := range before {
		if !isCanonicalTokenKey(k) {
			return false
		}
		if slices.Contains(ro, k) && !slices.Equal(vs, after[k]) {
			return false
		}
	}
	for k, vs := range after {
		if !isCanonicalTokenKey(k) {
			return false
		}
		if (slices.Contains(ro, k) || isDisallowedCanonical(k)) && !slices.Equal(before[k], vs) {
			return false
		}
	}
	return true
}

// isCanonicalTokenKey reports whether k is a non-empty HTTP token in
// canonical form ("X-Edgelab-Node"): what http.CanonicalHeaderKey returns
// for a valid name, in ASCII only.
func isCanonicalTokenKey(k string) bool {
	if k == "" {
		return false
	}
	upper := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z':
			if upper {
				return false
			}
		case 'A' <= c && c <= 'Z':
			if !upper {
				return false
			}
		case '0' <= c && c <= '9', c == '-':
		case strings.IndexByte("!#$%&'*+.^_`|~", c) >= 0:
		default:
			return false
		}
		upper = c == '-'
	}
	return true
}

// headerValues collects the values of name under every key that matches it
// case-insensitively, canonical key first.
func headerValues(h http.Header, name string) []string {
	c := http.CanonicalHeaderKey(name)
	out := slices.Clone(h[c])
	// Other case variants follow in sorted key order, so the same header
	// set always gives the same list (map order would not).
	var variants []string
	for k := range h {
		if k != c && strings.EqualFold(k, c) {
			variants = append(variants, k)
		}
	}
	slices.Sort(variants)
	for _, k := range variants {
		out = append(out, h[k]...)
	}
	return out
}

// responseSize approximates a response's wire size: status line, headers
// ("Name: value\r\n") and body.
func responseSize(r *edge.Response) int {
	n := len("HTTP/1.1 000 \r\n") + len(r.StatusDescription) + 2 + len(r.Body)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func sortedKeys(h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
