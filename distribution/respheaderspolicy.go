package distribution

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// securityHeaderNames are the headers a response headers policy's
// securityHeaders may set, canonical.
var securityHeaderNames = []string{"Strict-Transport-Security", "X-Frame-Options", "Content-Security-Policy",
	"X-Content-Type-Options", "Referrer-Policy", "X-Xss-Protection"}

// responseHeadersPolicyFile is a named response headers policy in the file.
type responseHeadersPolicyFile struct {
	Name            string               `json:"name"`
	CORS            *corsFile            `json:"cors,omitempty"`
	SecurityHeaders []responseHeaderFile `json:"securityHeaders,omitempty"`
	CustomHeaders   []responseHeaderFile `json:"customHeaders,omitempty"`
	RemoveHeaders   []string             `json:"removeHeaders,omitempty"`
	ServerTiming    bool                 `json:"serverTiming,omitempty"`
}

type responseHeaderFile struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Override bool   `json:"override,omitempty"`
}

type corsFile struct {
	AllowOrigins     []string `json:"allowOrigins"`
	AllowMethods     []string `json:"allowMethods,omitempty"`
	AllowHeaders     []string `json:"allowHeaders,omitempty"`
	ExposeHeaders    []string `json:"exposeHeaders,omitempty"`
	AllowCredentials bool     `json:"allowCredentials,omitempty"`
	MaxAgeSeconds    int32    `json:"maxAgeSeconds,omitempty"`
	OriginOverride   bool     `json:"originOverride,omitempty"`
}

// managedResponseHeadersPolicy returns CloudFront's managed response
// headers policy name with its documented settings; nil for another name.
func managedResponseHeadersPolicy(name string) *edgelabv1.ResponseHeadersPolicy {
	all := []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}
	switch name {
	case "SimpleCORS":
		return &edgelabv1.ResponseHeadersPolicy{Name: name, Cors: &edgelabv1.CorsConfig{AllowOrigins: []string{"*"}}}
	case "CORS-With-Preflight":
		return &edgelabv1.ResponseHeadersPolicy{Name: name, Cors: &edgelabv1.CorsConfig{AllowOrigins: []string{"*"},
			AllowMethods: all, AllowHeaders: []string{"*"}, ExposeHeaders: []string{"*"}}}
	case "SecurityHeadersPolicy":
		return &edgelabv1.ResponseHeadersPolicy{Name: name, SecurityHeaders: securityDefaults()}
	case "CORS-and-SecurityHeadersPolicy":
		return &edgelabv1.ResponseHeadersPolicy{Name: name, Cors: &edgelabv1.CorsConfig{AllowOrigins: []string{"*"}}, SecurityHeaders: securityDefaults()}
	case "CORS-With-Preflight-and-SecurityHeadersPolicy":
		return &edgelabv1.ResponseHeadersPolicy{Name: name, Cors: &edgelabv1.CorsConfig{AllowOrigins: []string{"*"},
			AllowMethods: all, AllowHeaders: []string{"*"}, ExposeHeaders: []string{"*"}}, SecurityHeaders: securityDefaults()}
	}
	return nil
}

func securityDefaults() []*edgelabv1.ResponseHeader {
	return []*edgelabv1.ResponseHeader{
		{Name: "Strict-Transport-Security", Value: "max-age=31536000"},
		{Name: "X-Content-Type-Options", Value: "nosniff", Override: true},
		{Name: "X-Frame-Options", Value: "SAMEORIGIN"},
		{Name: "Referrer-Policy", Value: "strict-origin-when-cross-origin"},
		{Name: "X-Xss-Protection", Value: "1; mode=block"},
	}
}

// ManagedResponseHeadersPolicies lists the managed response headers policy names.
func ManagedResponseHeadersPolicies() []string {
	return []string{"CORS-and-SecurityHeadersPolicy", "CORS-With-Preflight", "CORS-With-Preflight-and-SecurityHeadersPolicy",
		"SecurityHeadersPolicy", "SimpleCORS"}
}

// ResponseHeadersPolicyFor is the response headers policy behavior b of d
// uses; nil when it names none.
func ResponseHeadersPolicyFor(d *edgelabv1.Distribution, b *edgelabv1.Behavior) *edgelabv1.ResponseHeadersPolicy {
	name := b.GetResponseHeadersPolicy()
	if name == "" {
		return nil
	}
	for _, p := range d.GetResponseHeadersPolicies() {
		if p.GetName() == name {
			return p
		}
	}
	return managedResponseHeadersPolicy(name)
}

func responseHeadersToProto(in []responseHeadersPolicyFile) []*edgelabv1.ResponseHeadersPolicy {
	var out []*edgelabv1.ResponseHeadersPolicy
	hdrs := func(fs []responseHeaderFile) (hs []*edgelabv1.ResponseHeader) {
		for _, h := range fs {
			hs = append(hs, &edgelabv1.ResponseHeader{Name: h.Name, Value: h.Value, Override: h.Override})
		}
		return hs
	}
	for _, f := range in {
		p := &edgelabv1.ResponseHeadersPolicy{Name: f.Name, SecurityHeaders: hdrs(f.SecurityHeaders),
			CustomHeaders: hdrs(f.CustomHeaders), RemoveHeaders: f.RemoveHeaders, ServerTiming: f.ServerTiming}
		if c := f.CORS; c != nil {
			p.Cors = &edgelabv1.CorsConfig{AllowOrigins: c.AllowOrigins, AllowMethods: c.AllowMethods, AllowHeaders: c.AllowHeaders,
				ExposeHeaders: c.ExposeHeaders, AllowCredentials: c.AllowCredentials, MaxAgeSeconds: c.MaxAgeSeconds, OriginOverride: c.OriginOverride}
		}
		out = append(out, p)
	}
	return out
}

func responseHeadersToFile(in []*edgelabv1.ResponseHeadersPolicy) []responseHeadersPolicyFile {
	var out []responseHeadersPolicyFile
	hdrs := func(hs []*edgelabv1.ResponseHeader) (fs []responseHeaderFile) {
		for _, h := range hs {
			fs = append(fs, responseHeaderFile{Name: h.GetName(), Value: h.GetValue(), Override: h.GetOverride()})
		}
		return fs
	}
	for _, p := range in {
		f := responseHeadersPolicyFile{Name: p.GetName(), SecurityHeaders: hdrs(p.GetSecurityHeaders()),
			CustomHeaders: hdrs(p.GetCustomHeaders()), RemoveHeaders: p.GetRemoveHeaders(), ServerTiming: p.GetServerTiming()}
		if c := p.GetCors(); c != nil {
			f.CORS = &corsFile{AllowOrigins: c.GetAllowOrigins(), AllowMethods: c.GetAllowMethods(), AllowHeaders: c.GetAllowHeaders(),
				ExposeHeaders: c.GetExposeHeaders(), AllowCredentials: c.GetAllowCredentials(), MaxAgeSeconds: c.GetMaxAgeSeconds(), OriginOverride: c.GetOriginOverride()}
		}
		out = append(out, f)
	}
	return out
}

// validateResponseHeaders checks the named response headers policies and
// the behaviors' references to them.
func validateResponseHeaders(p *problems, d *edgelabv1.Distribution) {
	names := map[string]bool{}
	for i, rp := range d.GetResponseHeadersPolicies() {
		path := fmt.Sprintf("responseHeadersPolicies[%d]", i)
		checkPolicyName(p, path+".name", rp.GetName(), names, managedResponseHeadersPolicy(rp.GetName()) != nil)
		for j, h := range rp.GetSecurityHeaders() {
			hpath := fmt.Sprintf("%s.securityHeaders[%d]", path, j)
			if !slices.Contains(securityHeaderNames, http.CanonicalHeaderKey(h.GetName())) {
				p.add(hpath+".name", "%q is not a security header (want one of %s)", h.GetName(), strings.Join(securityHeaderNames, ", "))
			}
			checkHeaderValue(p, hpath+".value", h.GetValue())
		}
		for j, h := range rp.GetCustomHeaders() {
			hpath := fmt.Sprintf("%s.customHeaders[%d]", path, j)
			if !tokenRE.MatchString(h.GetName()) {
				p.add(hpath+".name", "%q is not a valid header name", h.GetName())
			}
			checkHeaderValue(p, hpath+".value", h.GetValue())
		}
		for j, h := range rp.GetRemoveHeaders() {
			if !tokenRE.MatchString(h) {
				p.add(fmt.Sprintf("%s.removeHeaders[%d]", path, j), "%q is not a valid header name", h)
			}
		}
		if c := rp.GetCors(); c != nil {
			validateCORS(p, path+".cors", c)
		}
	}
	for i, b := range d.GetBehaviors() {
		if name := b.GetResponseHeadersPolicy(); name != "" && !names[name] && managedResponseHeadersPolicy(name) == nil {
			p.add(fmt.Sprintf("behaviors[%d].responseHeadersPolicy", i), "unknown response headers policy %q (managed: %s; or one of responseHeadersPolicies)",
				name, strings.Join(ManagedResponseHeadersPolicies(), ", "))
		}
	}
}

func checkHeaderValue(p *problems, path, v string) {
	if v == "" || strings.ContainsAny(v, "\r\n\x00") {
		p.add(path, "a header value is required, on one line")
	}
}

func validateCORS(p *problems, path string, c *edgelabv1.CorsConfig) {
	if len(c.GetAllowOrigins()) == 0 {
		p.add(path+".allowOrigins", "at least one origin (or \"*\") is required")
	}
	for j, o := range c.GetAllowOrigins() {
		if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
			p.add(fmt.Sprintf("%s.allowOrigins[%d]", path, j), "%q is not an origin such as https://example.com (or \"*\")", o)
		}
	}
	for j, m := range c.GetAllowMethods() {
		if !allowedMethods[m] && m != "ALL" {
			p.add(fmt.Sprintf("%s.allowMethods[%d]", path, j), "%q is not an HTTP method CloudFront supports", m)
		}
	}
	if c.GetAllowCredentials() && slices.Contains(c.GetAllowOrigins(), "*") {
		p.add(path+".allowCredentials", "credentials cannot be allowed for every origin (\"*\")")
	}
	if c.GetMaxAgeSeconds() < 0 {
		p.add(path+".maxAgeSeconds", "must not be negative")
	}
}
