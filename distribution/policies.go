package distribution

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/viewerinfo"
)

// Header, cookie and query-string behaviors of an origin request policy,
// as CloudFront names them.
const (
	ForwardNone      = "none"
	ForwardWhitelist = "whitelist"
	ForwardAll       = "all"
	ForwardAllExcept = "allExcept"
	// Header behaviors only.
	ForwardAllViewer                   = "allViewer"
	ForwardAllViewerAndCloudFrontNamed = "allViewerAndWhitelistCloudFront"
)

// cachePolicyFile is a named cache policy in the file.
type cachePolicyFile struct {
	Name         string          `json:"name"`
	MinTTL       json.RawMessage `json:"minTTL,omitempty"`
	DefaultTTL   json.RawMessage `json:"defaultTTL,omitempty"`
	MaxTTL       json.RawMessage `json:"maxTTL,omitempty"`
	QueryStrings []string        `json:"queryStrings,omitempty"`
	Headers      []string        `json:"headers,omitempty"`
	Cookies      []string        `json:"cookies,omitempty"`
}

// originRequestPolicyFile is a named origin request policy in the file;
// an omitted section is "none".
type originRequestPolicyFile struct {
	Name         string         `json:"name"`
	Headers      *forwardedFile `json:"headers,omitempty"`
	Cookies      *forwardedFile `json:"cookies,omitempty"`
	QueryStrings *forwardedFile `json:"queryStrings,omitempty"`
}

type forwardedFile struct {
	Behavior string   `json:"behavior"`
	Items    []string `json:"items,omitempty"`
}

var (
	oneSecond = durationpb.New(time.Second)
	oneDay    = durationpb.New(24 * time.Hour)
	oneYear   = durationpb.New(DefaultMaxTTL)
)

// managedCachePolicies are CloudFront's managed cache policies edgelab
// serves, with their documented settings (compression aside: edgelab
// caches the identity encoding only).
func managedCachePolicy(name string) *edgelabv1.CachePolicy {
	switch name {
	case "CachingOptimized", "CachingOptimizedForUncompressedObjects":
		return &edgelabv1.CachePolicy{Name: name, Set: true, MinTtl: oneSecond, DefaultTtl: oneDay, MaxTtl: oneYear}
	case "CachingDisabled":
		zero := durationpb.New(0)
		return &edgelabv1.CachePolicy{Name: name, Set: true, MinTtl: zero, DefaultTtl: zero, MaxTtl: zero}
	}
	return nil
}

// ManagedCachePolicies lists the managed cache policy names, sorted.
func ManagedCachePolicies() []string {
	return []string{"CachingDisabled", "CachingOptimized", "CachingOptimizedForUncompressedObjects"}
}

// managedOriginRequestPolicy returns CloudFront's managed origin request
// policy name, with its documented settings; nil for another name.
func managedOriginRequestPolicy(name string) *edgelabv1.OriginRequestPolicy {
	p := &edgelabv1.OriginRequestPolicy{Name: name, HeaderBehavior: ForwardNone, CookieBehavior: ForwardNone, QueryStringBehavior: ForwardNone}
	switch name {
	case "AllViewer":
		p.HeaderBehavior, p.CookieBehavior, p.QueryStringBehavior = ForwardAllViewer, ForwardAll, ForwardAll
	case "AllViewerAndCloudFrontHeaders-2022-06":
		p.HeaderBehavior, p.CookieBehavior, p.QueryStringBehavior = ForwardAllViewerAndCloudFrontNamed, ForwardAll, ForwardAll
		p.Headers = viewerinfo.Headers()
	case "AllViewerExceptHostHeader":
		p.HeaderBehavior, p.CookieBehavior, p.QueryStringBehavior = ForwardAllExcept, ForwardAll, ForwardAll
		p.Headers = []string{"Host"}
	case "CORS-CustomOrigin":
		p.HeaderBehavior, p.Headers = ForwardWhitelist, []string{"Origin"}
	case "CORS-S3Origin":
		p.HeaderBehavior, p.Headers = ForwardWhitelist, []string{"Origin", "Access-Control-Request-Headers", "Access-Control-Request-Method"}
	case "UserAgentRefererHeaders":
		p.HeaderBehavior, p.Headers = ForwardWhitelist, []string{"User-Agent", "Referer"}
	default:
		return nil
	}
	return p
}

// ManagedOriginRequestPolicies lists the managed origin request policy names, sorted.
func ManagedOriginRequestPolicies() []string {
	return []string{"AllViewer", "AllViewerAndCloudFrontHeaders-2022-06", "AllViewerExceptHostHeader",
		"CORS-CustomOrigin", "CORS-S3Origin", "UserAgentRefererHeaders"}
}

// CachePolicyFor is the cache policy behavior b of d uses: the named or
// managed one it references, else its inline settings (CloudFront's
// defaults when it has none).
func CachePolicyFor(d *edgelabv1.Distribution, b *edgelabv1.Behavior) *edgelabv1.CachePolicy {
	name := b.GetCachePolicy()
	if name == "" {
		return b.GetCache()
	}
	for _, p := range d.GetCachePolicies() {
		if p.GetName() == name {
			return p
		}
	}
	return managedCachePolicy(name)
}

// OriginRequestPolicyFor is the origin request policy behavior b of d
// uses; nil when it names none (every viewer value goes to the origin).
func OriginRequestPolicyFor(d *edgelabv1.Distribution, b *edgelabv1.Behavior) *edgelabv1.OriginRequestPolicy {
	name := b.GetOriginRequestPolicy()
	if name == "" {
		return nil
	}
	for _, p := range d.GetOriginRequestPolicies() {
		if p.GetName() == name {
			return p
		}
	}
	return managedOriginRequestPolicy(name)
}

// policiesToProto converts the file's named policies into d.
func (f *file) policiesToProto(d *edgelabv1.Distribution) error {
	for i, cp := range f.CachePolicies {
		c := &cacheFile{MinTTL: cp.MinTTL, DefaultTTL: cp.DefaultTTL, MaxTTL: cp.MaxTTL,
			QueryStrings: cp.QueryStrings, Headers: cp.Headers, Cookies: cp.Cookies}
		p, err := cacheToProto(c, fmt.Sprintf("cachePolicies[%d]", i))
		if err != nil {
			return err
		}
		p.Name, p.Set = cp.Name, true
		d.CachePolicies = append(d.CachePolicies, p)
	}
	for _, op := range f.OriginRequestPolicies {
		p := &edgelabv1.OriginRequestPolicy{Name: op.Name}
		p.HeaderBehavior, p.Headers = op.Headers.proto()
		p.CookieBehavior, p.Cookies = op.Cookies.proto()
		p.QueryStringBehavior, p.QueryStrings = op.QueryStrings.proto()
		d.OriginRequestPolicies = append(d.OriginRequestPolicies, p)
	}
	return nil
}

func (ff *forwardedFile) proto() (string, []string) {
	if ff == nil {
		return ForwardNone, nil
	}
	return ff.Behavior, ff.Items
}

func forwardedToFile(behavior string, items []string) *forwardedFile {
	if (behavior == "" || behavior == ForwardNone) && len(items) == 0 {
		return nil
	}
	return &forwardedFile{Behavior: behavior, Items: items}
}

// policiesToFile writes d's named policies into f.
func policiesToFile(d *edgelabv1.Distribution, f *file) {
	for _, p := range d.GetCachePolicies() {
		f.CachePolicies = append(f.CachePolicies, cachePolicyFile{Name: p.GetName(),
			MinTTL: durationJSON(p.GetMinTtl().AsDuration()), DefaultTTL: durationJSON(p.GetDefaultTtl().AsDuration()),
			MaxTTL: durationJSON(p.GetMaxTtl().AsDuration()), QueryStrings: p.GetQueryStrings(), Headers: p.GetHeaders(), Cookies: p.GetCookies()})
	}
	for _, p := range d.GetOriginRequestPolicies() {
		f.OriginRequestPolicies = append(f.OriginRequestPolicies, originRequestPolicyFile{Name: p.GetName(),
			Headers:      forwardedToFile(p.GetHeaderBehavior(), p.GetHeaders()),
			Cookies:      forwardedToFile(p.GetCookieBehavior(), p.GetCookies()),
			QueryStrings: forwardedToFile(p.GetQueryStringBehavior(), p.GetQueryStrings())})
	}
}

// validatePolicies checks the named policies and every behavior's
// references to them.
func validatePolicies(p *problems, d *edgelabv1.Distribution) {
	cacheNames := map[string]bool{}
	for i, cp := range d.GetCachePolicies() {
		path := fmt.Sprintf("cachePolicies[%d]", i)
		checkPolicyName(p, path+".name", cp.GetName(), cacheNames, managedCachePolicy(cp.GetName()) != nil)
		validateCache(p, path, cp)
	}
	orpNames := map[string]bool{}
	for i, op := range d.GetOriginRequestPolicies() {
		path := fmt.Sprintf("originRequestPolicies[%d]", i)
		checkPolicyName(p, path+".name", op.GetName(), orpNames, managedOriginRequestPolicy(op.GetName()) != nil)
		validateForwarded(p, path+".headers", op.GetHeaderBehavior(), op.GetHeaders(), true)
		validateForwarded(p, path+".cookies", op.GetCookieBehavior(), op.GetCookies(), false)
		validateForwarded(p, path+".queryStrings", op.GetQueryStringBehavior(), op.GetQueryStrings(), false)
	}
	for i, b := range d.GetBehaviors() {
		path := fmt.Sprintf("behaviors[%d]", i)
		if name := b.GetCachePolicy(); name != "" {
			switch {
			case b.GetCache().GetSet():
				p.add(path, "cache and cachePolicy are exclusive: use inline cache settings or a named policy")
			case !cacheNames[name] && managedCachePolicy(name) == nil:
				p.add(path+".cachePolicy", "unknown cache policy %q (managed: %s; or one of cachePolicies)", name, strings.Join(ManagedCachePolicies(), ", "))
			}
		}
		if name := b.GetOriginRequestPolicy(); name != "" && !orpNames[name] && managedOriginRequestPolicy(name) == nil {
			p.add(path+".originRequestPolicy", "unknown origin request policy %q (managed: %s; or one of originRequestPolicies)", name, strings.Join(ManagedOriginRequestPolicies(), ", "))
		}
	}
}

func checkPolicyName(p *problems, path, name string, seen map[string]bool, managed bool) {
	switch {
	case !idRE.MatchString(name):
		p.add(path, "%q is not a valid policy name: use 1-64 letters, digits, '-' or '_'", name)
	case managed:
		p.add(path, "%q is the name of a managed policy: reference it from a behavior instead of defining it", name)
	case seen[name]:
		p.add(path, "duplicate policy name %q", name)
	}
	seen[name] = true
}

// validateForwarded checks one section of an origin request policy.
func validateForwarded(p *problems, path, behavior string, items []string, headers bool) {
	allowed := []string{ForwardNone, ForwardWhitelist, ForwardAll, ForwardAllExcept}
	if headers {
		allowed = []string{ForwardNone, ForwardWhitelist, ForwardAllViewer, ForwardAllViewerAndCloudFrontNamed, ForwardAllExcept}
	}
	if !slices.Contains(allowed, behavior) {
		p.add(path+".behavior", "%q is not a behavior (want one of %s)", behavior, strings.Join(allowed, ", "))
		return
	}
	needsItems := behavior == ForwardWhitelist || behavior == ForwardAllExcept || behavior == ForwardAllViewerAndCloudFrontNamed
	switch {
	case needsItems && len(items) == 0:
		p.add(path+".items", "behavior %s needs at least one item", behavior)
	case !needsItems && len(items) > 0:
		p.add(path+".items", "behavior %s takes no items", behavior)
	}
	for j, it := range items {
		ipath := fmt.Sprintf("%s.items[%d]", path, j)
		switch {
		case headers && !tokenRE.MatchString(it), !headers && (it == "" || strings.ContainsAny(it, " \t\r\n;=&")):
			p.add(ipath, "%q is not a valid name", it)
		case behavior == ForwardAllViewerAndCloudFrontNamed && !viewerinfo.IsHeader(it):
			p.add(ipath, "%q is not a CloudFront header (known: %s)", it, strings.Join(viewerinfo.Headers(), ", "))
		}
	}
}
