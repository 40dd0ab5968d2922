package edge

import (
	"net/http"
	"strings"
)

// Cookie returns the value of the named cookie from the request's Cookie
// header(s). Parsing is lenient: malformed pairs are skipped, surrounding
// double quotes are removed, and the first occurrence wins.
func Cookie(h http.Header, name string) (string, bool) {
	for _, line := range h.Values("Cookie") {
		for _, part := range strings.Split(line, ";") {
			k, v, ok := splitCookie(part)
			if ok && k == name {
				return v, true
			}
		}
	}
	return "", false
}

// Cookies returns every cookie of the request's Cookie header(s) by name;
// for repeated names the first value wins.
func Cookies(h http.Header) map[string]string {
	out := map[string]string{}
	for _, line := range h.Values("Cookie") {
		for _, part := range strings.Split(line, ";") {
			k, v, ok := splitCookie(part)
			if !ok {
				continue
			}
			if _, dup := out[k]; !dup {
				out[k] = v
			}
		}
	}
	return out
}

func splitCookie(part string) (name, value string, ok bool) {
	name, value, found := strings.Cut(strings.TrimSpace(part), "=")
	name = strings.TrimSpace(name)
	if !found || name == "" {
		return "", "", false
	}
	value = strings.TrimSpace(value)
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	return name, value, true
}

// SetCookie adds a Set-Cookie header (a full cookie line such as
// "session=abc; Path=/; Secure; HttpOnly") to a response's headers.
func SetCookie(h http.Header, cookie string) {
	h.Add("Set-Cookie", cookie)
}

// AddRequestCookie appends name=value to the request's Cookie header, e.g. to
// pass an A/B group to the origin.
func AddRequestCookie(h http.Header, name, value string) {
	pair := name + "=" + value
	if cur := h.Get("Cookie"); cur != "" {
		h.Set("Cookie", cur+"; "+pair)
		return
	}
	h.Set("Cookie", pair)
}
