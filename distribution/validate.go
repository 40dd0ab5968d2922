package distribution

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/edgelab/edgelab/eventtype"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// Structural limits (CloudFront quotas where one exists).
const (
	// MaxCacheKeyItems bounds query strings, headers and cookies per cache policy.
	MaxCacheKeyItems = 10
	// MaxBehaviors bounds the behaviors of one distribution.
	MaxBehaviors = 100
	// MaxPatternLength bounds a path pattern.
	MaxPatternLength = 255
	// DefaultPath is the path of the catch-all behavior, which must be last.
	DefaultPath = "default"
)

var (
	idRE      = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$`)
	labelRE   = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
	patternRE = regexp.MustCompile(`^[A-Za-z0-9_\-.*$/~"'@:+&?%=]+$`)
	tokenRE   = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

var allowedFailover = map[int32]bool{400: true, 403: true, 404: true, 416: true, 500: true, 502: true, 503: true, 504: true}

var allowedMethods = map[string]bool{"GET": true, "HEAD": true, "OPTIONS": true, "PUT": true, "POST": true, "PATCH": true, "DELETE": true}

// ValidationError lists every structural problem of a distribution, each
// prefixed with its field path (e.g. "behaviors[0].origin: ...").
type ValidationError struct {
	Problems []string
}

// Error joins the problems, one per line.
func (e *ValidationError) Error() string { return strings.Join(e.Problems, "\n") }

type problems []string

func (p *problems) add(path, format string, args ...any) {
	*p = append(*p, path+": "+fmt.Sprintf(format, args...))
}

// Validate checks a distribution's structure: ids, domains, origins and
// origin groups, behaviors (patterns, origin references, TTL order, cache
// key sizes, one association per event type, positive version numbers). It
// does not check that referenced function versions exist. The error is a
// *ValidationError.
func Validate(d *edgelabv1.Distribution) error {
	var p problems
	if d == nil {
		return &ValidationError{Problems: []string{"distribution: missing"}}
	}
	if !idRE.MatchString(d.GetId()) {
		p.add("id", "%q is not a valid id: use 1-64 letters, digits, '-' or '_', starting with a letter or digit", d.GetId())
	}
	if d.GetStaging() {
		if len(d.GetDomains()) > 0 {
			p.add("domains", "a staging distribution has no domains: viewers reach it through its primary's continuous deployment policy")
		}
	} else {
		validateDomains(&p, d.GetDomains())
	}
	validateStaging(&p, d)
	targets := validateOrigins(&p, d)
	validateBehaviors(&p, d.GetBehaviors(), targets)
	validatePolicies(&p, d)
	validateFeatures(&p, d, targets)
	validateEgress(&p, d.GetEgress())
	if len(p) > 0 {
		return &ValidationError{Problems: p}
	}
	return nil
}

func validateDomains(p *problems, domains []string) {
	if len(domains) == 0 {
		p.add("domains", "at least one domain is required (\"*\" serves any host)")
	}
	seen := map[string]bool{}
	for i, dom := range domains {
		path := fmt.Sprintf("domains[%d]", i)
		lower := strings.ToLower(dom)
		if seen[lower] {
			p.add(path, "duplicate domain %q", dom)
		}
		seen[lower] = true
		if dom == "*" {
			continue
		}
		host := strings.TrimPrefix(dom, "*.")
		if len(host) == 0 || len(host) > 253 {
			p.add(path, "%q is not a valid host name", dom)
			continue
		}
		for _, label := range strings.Split(host, ".") {
			if !labelRE.MatchString(label) {
				p.add(path, "%q is not a valid host name (use letters, digits and '-', or \"*.\" as a prefix, or \"*\")", dom)
				break
			}
		}
	}
}

// validateOrigins returns the set of ids a behavior may target (origins
// and origin groups).
func validateOrigins(p *problems, d *edgelabv1.Distribution) map[string]bool {
	origins := map[string]bool{}
	targets := map[string]bool{}
	if len(d.GetOrigins()) == 0 {
		p.add("origins", "at least one origin is required")
	}
	for i, o := range d.GetOrigins() {
		path := fmt.Sprintf("origins[%d]", i)
		if !idRE.MatchString(o.GetId()) {
			p.add(path+".id", "%q is not a valid id", o.GetId())
		} else if targets[o.GetId()] {
			p.add(path+".id", "duplicate origin id %q", o.GetId())
		}
		origins[o.GetId()], targets[o.GetId()] = true, true
		validateOriginExtras(p, path, o)
		u, err := url.Parse(o.GetUrl())
		switch {
		case o.GetS3() != nil: // its url is derived (validateOriginExtras)
		case o.GetUrl() == "":
			p.add(path+".url", "url is required")
		case err != nil:
			p.add(path+".url", "%q is not a valid URL", o.GetUrl())
		case u.Scheme != "http" && u.Scheme != "https":
			p.add(path+".url", "%q: the scheme must be http or https", o.GetUrl())
		case u.Host == "":
			p.add(path+".url", "%q has no host", o.GetUrl())
		case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			p.add(path+".url", "%q: an origin URL may have a path but no query, fragment or user info", o.GetUrl())
		}
		if o.GetConnectTimeout().AsDuration() < 0 || o.GetReadTimeout().AsDuration() < 0 {
			p.add(path, "timeouts must not be negative")
		}
		for name := range o.GetCustomHeaders() {
			if !tokenRE.MatchString(name) {
				p.add(path+".customHeaders", "%q is not a valid header name", name)
			}
		}
	}
	for i, g := range d.GetOriginGroups() {
		path := fmt.Sprintf("originGroups[%d]", i)
		if !idRE.MatchString(g.GetId()) {
			p.add(path+".id", "%q is not a valid id", g.GetId())
		} else if targets[g.GetId()] {
			p.add(path+".id", "id %q is already used by an origin or origin group", g.GetId())
		}
		targets[g.GetId()] = true
		if !origins[g.GetPrimary()] {
			p.add(path+".primary", "unknown origin %q", g.GetPrimary())
		}
		if !origins[g.GetSecondary()] {
			p.add(path+".secondary", "unknown origin %q", g.GetSecondary())
		}
		if g.GetPrimary() == g.GetSecondary() && g.GetPrimary() != "" {
			p.add(path, "primary and secondary must be different origins")
		}
		for j, s := range g.GetFailoverStatus() {
			if !allowedFailover[s] {
				p.add(fmt.Sprintf("%s.failoverStatus[%d]", path, j), "%d is not allowed (allowed: 400, 403, 404, 416, 500, 502, 503, 504)", s)
			}
		}
	}
	return targets
}

func validateBehaviors(p *problems, bs []*edgelabv1.Behavior, targets map[string]bool) {
	if len(bs) == 0 {
		p.add("behaviors", "at least one behavior is required, and the last one must have path %q", DefaultPath)
		return
	}
	if len(bs) > MaxBehaviors {
		p.add("behaviors", "%d behaviors, the limit is %d", len(bs), MaxBehaviors)
	}
	seen := map[string]bool{}
	for i, b := range bs {
		path := fmt.Sprintf("behaviors[%d]", i)
		pat := b.GetPath()
		switch {
		case pat == DefaultPath && i != len(bs)-1:
			p.add(path+".path", "the %q behavior must be the last one", DefaultPath)
		case pat == DefaultPath:
		case seen[pat]:
			p.add(path+".path", "duplicate path pattern %q", pat)
		default:
			if err := CheckPattern(pat); err != nil {
				p.add(path+".path", "%v", err)
			}
		}
		seen[pat] = true
		if b.GetOrigin() == "" {
			p.add(path+".origin", "origin is required")
		} else if !targets[b.GetOrigin()] {
			p.add(path+".origin", "unknown origin or origin group %q", b.GetOrigin())
		}
		validateCache(p, path+".cache", b.GetCache())
		for j, m := range b.GetAllowedMethods() {
			if !allowedMethods[m] {
				p.add(fmt.Sprintf("%s.allowedMethods[%d]", path, j), "%q is not an HTTP method CloudFront supports", m)
			}
		}
		events := map[edgelabv1.EventType]bool{}
		for _, a := range b.GetFunctions() {
			name := eventtype.Name(a.GetEventType())
			fpath := path + ".functions." + name
			if _, ok := eventtype.Parse(name); !ok {
				p.add(path+".functions", "association of function %q has no event type", a.GetFunction())
				continue
			}
			if events[a.GetEventType()] {
				p.add(fpath, "duplicate association: at most one function per event type")
			}
			events[a.GetEventType()] = true
			if !idRE.MatchString(a.GetFunction()) {
				p.add(fpath, "%q is not a valid function name", a.GetFunction())
			}
			if a.GetVersion() <= 0 {
				p.add(fpath, "function %s: version %d: only numbered versions (1, 2, ...) can be associated", a.GetFunction(), a.GetVersion())
			}
		}
	}
	if bs[len(bs)-1].GetPath() != DefaultPath {
		p.add(fmt.Sprintf("behaviors[%d].path", len(bs)-1), "the last behavior must have path %q (the catch-all), found %q", DefaultPath, bs[len(bs)-1].GetPath())
	}
}

func validateCache(p *problems, path string, c *edgelabv1.CachePolicy) {
	if c == nil {
		return
	}
	minT, defT, maxT := c.GetMinTtl().AsDuration(), c.GetDefaultTtl().AsDuration(), c.GetMaxTtl().AsDuration()
	if minT < 0 || defT < 0 || maxT < 0 {
		p.add(path, "TTLs must not be negative")
	}
	if minT > defT || defT > maxT {
		p.add(path, "TTLs must satisfy minTTL <= defaultTTL <= maxTTL (got %s, %s, %s)", FormatDuration(minT), FormatDuration(defT), FormatDuration(maxT))
	}
	for _, l := range []struct {
		name  string
		items []string
	}{{"queryStrings", c.GetQueryStrings()}, {"headers", c.GetHeaders()}, {"cookies", c.GetCookies()}} {
		if len(l.items) > MaxCacheKeyItems {
			p.add(path+"."+l.name, "%d items, at most %d are allowed", len(l.items), MaxCacheKeyItems)
		}
		for j, it := range l.items {
			if it == "" || strings.ContainsAny(it, " \t\r\n") {
				p.add(fmt.Sprintf("%s.%s[%d]", path, l.name, j), "%q is not a valid name", it)
			}
		}
	}
}

// CheckPattern reports whether pattern is a valid CloudFront path pattern
// (other than "default"): it starts with "/" or "*", uses only the
// characters CloudFront allows, with * (any characters, including "/") and
// ? (exactly one character) as wildcards, and is at most 255 characters.
func CheckPattern(pattern string) error {
	switch {
	case pattern == "":
		return fmt.Errorf("path pattern is required")
	case len(pattern) > MaxPatternLength:
		return fmt.Errorf("path pattern is %d characters, the limit is %d", len(pattern), MaxPatternLength)
	case pattern[0] != '/' && pattern[0] != '*':
		return fmt.Errorf("path pattern %q must start with \"/\" or \"*\" (or be %q)", pattern, DefaultPath)
	case !patternRE.MatchString(pattern):
		return fmt.Errorf("path pattern %q has a character CloudFront does not allow (allowed: letters, digits, _ - . * $ / ~ \" ' @ : + & ? %% =)", pattern)
	}
	return nil
}
