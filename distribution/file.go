package distribution

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/edgelab/edgelab/eventtype"

	"google.golang.org/protobuf/types/known/durationpb"
	"sigs.k8s.io/yaml"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// CloudFront's default TTLs, used when a behavior has no cache section or
// leaves a TTL out.
const (
	DefaultMinTTL     = 0 * time.Second
	DefaultDefaultTTL = 24 * time.Hour
	DefaultMaxTTL     = 8760 * time.Hour // 31,536,000 s
)

// defaultFailoverStatus is what an origin group that names no statuses fails over on.
var defaultFailoverStatus = []int32{500, 502, 503, 504}

// DefaultFailoverStatus returns the failover statuses an origin group gets
// when it names none: 500, 502, 503, 504.
func DefaultFailoverStatus() []int32 { return append([]int32(nil), defaultFailoverStatus...) }

// maxFileBytes bounds the input of Parse.
const maxFileBytes = 1 << 20

// file is the user-facing shape. Raw fields are converted in a second pass
// so that errors can name the field path.
type file struct {
	ID           string         `json:"id"`
	Comment      string         `json:"comment,omitempty"`
	Domains      []string       `json:"domains"`
	Origins      []originFile   `json:"origins"`
	OriginGroups []groupFile    `json:"originGroups,omitempty"`
	Behaviors    []behaviorFile `json:"behaviors"`

	CachePolicies         []cachePolicyFile         `json:"cachePolicies,omitempty"`
	OriginRequestPolicies []originRequestPolicyFile `json:"originRequestPolicies,omitempty"`
	GeoRestriction        *geoFile                  `json:"geoRestriction,omitempty"`
	CustomErrorResponses  []errorResponseFile       `json:"customErrorResponses,omitempty"`

	ResponseHeadersPolicies []responseHeadersPolicyFile `json:"responseHeadersPolicies,omitempty"`
	Egress                  *egressFile                 `json:"egress,omitempty"`
	// OriginShield is a region whose REC every REC's misses go through.
	OriginShield string `json:"originShield,omitempty"`
	// Staging and ContinuousDeployment: staging.go.
	Staging              bool                      `json:"staging,omitempty"`
	ContinuousDeployment *continuousDeploymentFile `json:"continuousDeployment,omitempty"`
	// KeyGroups are the public keys signed URLs and cookies are checked with (keygroups.go).
	KeyGroups []keyGroupFile `json:"keyGroups,omitempty"`
}

type originFile struct {
	ID             string            `json:"id"`
	URL            string            `json:"url"`
	ConnectTimeout json.RawMessage   `json:"connectTimeout,omitempty"`
	ReadTimeout    json.RawMessage   `json:"readTimeout,omitempty"`
	CustomHeaders  map[string]string `json:"customHeaders,omitempty"`
	// The S3 origin and custom-origin extras (origins3.go).
	S3               *s3File         `json:"s3,omitempty"`
	KeepaliveTimeout json.RawMessage `json:"keepaliveTimeout,omitempty"`
	SSLProtocols     []string        `json:"sslProtocols,omitempty"`
	Region           string          `json:"region,omitempty"`
}

type groupFile struct {
	ID             string  `json:"id"`
	Primary        string  `json:"primary"`
	Secondary      string  `json:"secondary"`
	FailoverStatus []int32 `json:"failoverStatus,omitempty"`
}

type behaviorFile struct {
	Path           string               `json:"path"`
	Origin         string               `json:"origin"`
	Cache          *cacheFile           `json:"cache,omitempty"`
	Functions      map[string]assocFile `json:"functions,omitempty"`
	AllowedMethods []string             `json:"allowedMethods,omitempty"`
	// CachePolicy and OriginRequestPolicy name a policy (policies.go).
	CachePolicy         string `json:"cachePolicy,omitempty"`
	OriginRequestPolicy string `json:"originRequestPolicy,omitempty"`
	// ResponseHeadersPolicy names a policy (respheaderspolicy.go).
	ResponseHeadersPolicy string `json:"responseHeadersPolicy,omitempty"`
	// TrustedKeyGroups name key groups: only signed requests are served (keygroups.go).
	TrustedKeyGroups []string `json:"trustedKeyGroups,omitempty"`
}

type cacheFile struct {
	MinTTL       json.RawMessage `json:"minTTL,omitempty"`
	DefaultTTL   json.RawMessage `json:"defaultTTL,omitempty"`
	MaxTTL       json.RawMessage `json:"maxTTL,omitempty"`
	QueryStrings []string        `json:"queryStrings,omitempty"`
	Headers      []string        `json:"headers,omitempty"`
	Cookies      []string        `json:"cookies,omitempty"`
}

type assocFile struct {
	Function    string          `json:"function"`
	Version     json.RawMessage `json:"version,omitempty"`
	IncludeBody bool            `json:"includeBody,omitempty"`
}

// Parse decodes a distribution file (YAML or JSON), fills in defaults and
// validates its structure. Unknown fields are errors.
func Parse(data []byte) (*edgelabv1.Distribution, error) {
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("distribution file is %d bytes, the limit is %d", len(data), maxFileBytes)
	}
	if err := checkFields(data); err != nil {
		return nil, fmt.Errorf("parsing distribution file: %w", err)
	}
	var f file
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("parsing distribution file: %s", cleanDecodeError(err))
	}
	d, err := f.toProto()
	if err != nil {
		return nil, err
	}
	if err := Validate(d); err != nil {
		return nil, err
	}
	return d, nil
}

// cleanDecodeError strips the layers of prefixes sigs.k8s.io/yaml adds.
func cleanDecodeError(err error) string {
	msg := err.Error()
	for _, p := range []string{"error converting YAML to JSON: ", "error unmarshaling JSON: ", "while decoding JSON: ", "json: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	return msg
}

func (f *file) toProto() (*edgelabv1.Distribution, error) {
	d := &edgelabv1.Distribution{Id: f.ID, Comment: f.Comment, Domains: f.Domains, Egress: f.Egress.toProto(), OriginShield: f.OriginShield, Staging: f.Staging}
	var err error
	if d.ContinuousDeployment, err = f.ContinuousDeployment.toProto(); err != nil {
		return nil, err
	}
	for i, o := range f.Origins {
		po := &edgelabv1.Origin{Id: o.ID, Url: o.URL, CustomHeaders: o.CustomHeaders, Region: o.Region}
		var err error
		if po.ConnectTimeout, err = durationField(o.ConnectTimeout, fmt.Sprintf("origins[%d].connectTimeout", i), 0); err != nil {
			return nil, err
		}
		if po.ReadTimeout, err = durationField(o.ReadTimeout, fmt.Sprintf("origins[%d].readTimeout", i), 0); err != nil {
			return nil, err
		}
		if len(o.ConnectTimeout) == 0 {
			po.ConnectTimeout = nil
		}
		if len(o.ReadTimeout) == 0 {
			po.ReadTimeout = nil
		}
		if err := o.extraToProto(i, po); err != nil {
			return nil, err
		}
		d.Origins = append(d.Origins, po)
	}
	for _, g := range f.OriginGroups {
		fs := g.FailoverStatus
		if len(fs) == 0 {
			fs = DefaultFailoverStatus()
		}
		d.OriginGroups = append(d.OriginGroups, &edgelabv1.OriginGroup{Id: g.ID, Primary: g.Primary, Secondary: g.Secondary, FailoverStatus: fs})
	}
	for i, b := range f.Behaviors {
		path := fmt.Sprintf("behaviors[%d]", i)
		pb := &edgelabv1.Behavior{Path: b.Path, Origin: b.Origin, AllowedMethods: b.AllowedMethods,
			CachePolicy: b.CachePolicy, OriginRequestPolicy: b.OriginRequestPolicy, ResponseHeadersPolicy: b.ResponseHeadersPolicy}
		c := b.Cache
		if c == nil {
			c = &cacheFile{}
		}
		cp, err := cacheToProto(c, path+".cache")
		if err != nil {
			return nil, err
		}
		cp.Set = b.Cache != nil
		pb.Cache = cp
		names := make([]string, 0, len(b.Functions))
		for name := range b.Functions {
			names = append(names, name)
		}
		sort.Slice(names, func(i, j int) bool { return eventOrder(names[i]) < eventOrder(names[j]) })
		for _, name := range names {
			a := b.Functions[name]
			fpath := path + ".functions." + name
			et, ok := eventtype.Parse(name)
			if !ok {
				return nil, fmt.Errorf("%s: unknown event type %q (want viewer-request, origin-request, origin-response or viewer-response)", fpath, name)
			}
			v, err := versionField(a.Version, a.Function)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", fpath, err)
			}
			pb.Functions = append(pb.Functions, &edgelabv1.Association{EventType: et, Function: a.Function, Version: v, IncludeBody: a.IncludeBody})
		}
		d.Behaviors = append(d.Behaviors, pb)
	}
	if err := f.policiesToProto(d); err != nil {
		return nil, err
	}
	if err := f.featuresToProto(d); err != nil {
		return nil, err
	}
	return d, nil
}

// cacheToProto converts cache settings at path; an omitted TTL is CloudFront's default.
func cacheToProto(c *cacheFile, path string) (*edgelabv1.CachePolicy, error) {
	cp := &edgelabv1.CachePolicy{QueryStrings: c.QueryStrings, Headers: c.Headers, Cookies: c.Cookies}
	var err error
	if cp.MinTtl, err = durationField(c.MinTTL, path+".minTTL", DefaultMinTTL); err != nil {
		return nil, err
	}
	if cp.DefaultTtl, err = durationField(c.DefaultTTL, path+".defaultTTL", DefaultDefaultTTL); err != nil {
		return nil, err
	}
	if cp.MaxTtl, err = durationField(c.MaxTTL, path+".maxTTL", DefaultMaxTTL); err != nil {
		return nil, err
	}
	return cp, nil
}

func eventOrder(name string) int {
	et, ok := eventtype.Parse(name)
	if !ok {
		return math.MaxInt
	}
	return int(et)
}

// durationField converts a Go duration string ("24h", "0s"); empty means def.
func durationField(raw json.RawMessage, path string, def time.Duration) (*durationpb.Duration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return durationpb.New(def), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		if string(raw) == "0" {
			return durationpb.New(0), nil
		}
		return nil, fmt.Errorf("%s: %s is not a duration; write a Go duration string such as \"0s\", \"90s\" or \"24h\"", path, raw)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not a duration; write a Go duration string such as \"0s\", \"90s\" or \"24h\"", path, s)
	}
	if d < 0 {
		return nil, fmt.Errorf("%s: %q is negative", path, s)
	}
	return durationpb.New(d), nil
}

// versionField converts an association's version; only positive integers
// are accepted.
func versionField(raw json.RawMessage, function string) (int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, fmt.Errorf("function %s: version is required: only numbered versions can be associated", function)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		n, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil || n <= 0 {
			return 0, fmt.Errorf("function %s: version %q: only numbered versions can be associated", function, s)
		}
		return n, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var num json.Number
	if err := dec.Decode(&num); err != nil {
		return 0, fmt.Errorf("function %s: version %s: only numbered versions can be associated", function, raw)
	}
	n, err := num.Int64()
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("function %s: version %s: only numbered versions (1, 2, ...) can be associated", function, num)
	}
	return n, nil
}

// ToFile renders a distribution as a YAML distribution file that Parse
// reads back to the same distribution (Updated is not part of the file).
func ToFile(d *edgelabv1.Distribution) ([]byte, error) {
	if d == nil {
		return nil, errors.New("no distribution")
	}
	f := file{ID: d.GetId(), Comment: d.GetComment(), Domains: d.GetDomains(), Egress: egressToFile(d.GetEgress()), OriginShield: d.GetOriginShield(),
		Staging: d.GetStaging(), ContinuousDeployment: continuousDeploymentToFile(d.GetContinuousDeployment())}
	for _, o := range d.GetOrigins() {
		of := originFile{ID: o.GetId(), URL: o.GetUrl(), CustomHeaders: o.GetCustomHeaders(), Region: o.GetRegion()}
		if o.ConnectTimeout != nil {
			of.ConnectTimeout = durationJSON(o.GetConnectTimeout().AsDuration())
		}
		if o.ReadTimeout != nil {
			of.ReadTimeout = durationJSON(o.GetReadTimeout().AsDuration())
		}
		of.extraFromProto(o)
		f.Origins = append(f.Origins, of)
	}
	for _, g := range d.GetOriginGroups() {
		f.OriginGroups = append(f.OriginGroups, groupFile{ID: g.GetId(), Primary: g.GetPrimary(), Secondary: g.GetSecondary(), FailoverStatus: g.GetFailoverStatus()})
	}
	for _, b := range d.GetBehaviors() {
		bf := behaviorFile{Path: b.GetPath(), Origin: b.GetOrigin(), AllowedMethods: b.GetAllowedMethods(),
			CachePolicy: b.GetCachePolicy(), OriginRequestPolicy: b.GetOriginRequestPolicy(), ResponseHeadersPolicy: b.GetResponseHeadersPolicy()}
		if c := b.GetCache(); c.GetSet() {
			bf.Cache = &cacheFile{
				MinTTL:       durationJSON(c.GetMinTtl().AsDuration()),
				DefaultTTL:   durationJSON(c.GetDefaultTtl().AsDuration()),
				MaxTTL:       durationJSON(c.GetMaxTtl().AsDuration()),
				QueryStrings: c.GetQueryStrings(), Headers: c.GetHeaders(), Cookies: c.GetCookies(),
			}
		}
		if len(b.GetFunctions()) > 0 {
			bf.Functions = map[string]assocFile{}
			for _, a := range b.GetFunctions() {
				bf.Functions[eventtype.Name(a.GetEventType())] = assocFile{Function: a.GetFunction(),
					Version: json.RawMessage(strconv.FormatInt(a.GetVersion(), 10)), IncludeBody: a.GetIncludeBody()}
			}
		}
		f.Behaviors = append(f.Behaviors, bf)
	}
	policiesToFile(d, &f)
	featuresToFile(d, &f)
	js, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encoding distribution %s: %w", d.GetId(), err)
	}
	out, err := yaml.JSONToYAML(js)
	if err != nil {
		return nil, fmt.Errorf("encoding distribution %s: %w", d.GetId(), err)
	}
	return out, nil
}

func durationJSON(d time.Duration) json.RawMessage {
	b, _ := json.Marshal(FormatDuration(d))
	return b
}

// FormatDuration writes d in the shortest unit that is exact: "24h", "90s", "1500ms".
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}
