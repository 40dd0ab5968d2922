package edge

import (
	"net/url"
	"sort"
	"strings"
)

// ParseQuery parses a raw query string (without "?") leniently: malformed
// pairs are skipped instead of failing the whole string.
func ParseQuery(qs string) url.Values {
	v, _ := url.ParseQuery(strings.TrimPrefix(qs, "?"))
	if v == nil {
		v = url.Values{}
	}
	return v
}

// EncodeQuery encodes values sorted by key (url.Values.Encode).
func EncodeQuery(v url.Values) string { return v.Encode() }

// NormalizeQuery lowercases a query string and sorts its parameters by key
// (values keep their order within a key), the way the AWS "normalize query
// string" example does to raise the cache hit ratio. Empty pairs are dropped.
func NormalizeQuery(qs string) string {
	v := ParseQuery(strings.ToLower(qs))
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, val := range v[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(val))
		}
	}
	return b.String()
}
