package cache

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// KeyPolicy names what besides distribution and path goes into the key.
// Query-string and cookie names are case-sensitive (as in CloudFront);
// header names are not. "*" in QueryStrings means all query parameters.
type KeyPolicy struct {
	QueryStrings []string
	Headers      []string
	Cookies      []string
}

// Key builds the cache key for a request. Parameters, headers and cookies
// are sorted by name so their order in the request does not matter; the
// values of one repeated parameter keep their order.
func Key(distribution, uri, rawQuery string, h http.Header, kp KeyPolicy) string {
	var b strings.Builder
	b.Grow(len(distribution) + len(uri) + 2)
	b.WriteString(distribution)
	b.WriteByte(0)
	b.WriteString(uri)
	if len(kp.QueryStrings) > 0 && rawQuery != "" {
		q, _ := url.ParseQuery(rawQuery) // keep what parsed; a bad pair is dropped
		names := kp.QueryStrings
		if slices.Contains(names, "*") {
			names = make([]string, 0, len(q))
			for k := range q {
				names = append(names, k)
			}
		} else {
			names = slices.Clone(names)
		}
		slices.Sort(names)
		names = slices.Compact(names)
		b.WriteString("\x00q")
		for _, n := range names {
			for _, v := range q[n] {
				b.WriteByte('&')
				b.WriteString(url.QueryEscape(n))
				b.WriteByte('=')
				b.WriteString(url.QueryEscape(v))
			}
		}
	}
	if len(kp.Headers) > 0 {
		names := make([]string, 0, len(kp.Headers))
		for _, n := range kp.Headers {
			names = append(names, http.CanonicalHeaderKey(n))
		}
		slices.Sort(names)
		names = slices.Compact(names)
		b.WriteString("\x00h")
		for _, n := range names {
			b.WriteByte('\x01')
			b.WriteString(strings.ToLower(n))
			b.WriteByte(':')
			b.WriteString(strings.Join(h.Values(n), ","))
		}
	}
	if len(kp.Cookies) > 0 {
		cookies := (&http.Request{Header: http.Header{"Cookie": h.Values("Cookie")}}).Cookies()
		names := slices.Clone(kp.Cookies)
		slices.Sort(names)
		names = slices.Compact(names)
		b.WriteString("\x00c")
		for _, n := range names {
			for _, c := range cookies {
				if c.Name == n {
					b.WriteByte('\x01')
					b.WriteString(n)
					b.WriteByte('=')
					b.WriteString(c.Value)
				}
			}
		}
	}
	return b.String()
}
