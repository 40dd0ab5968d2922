package edge

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// NewCustomOrigin returns a custom origin for a base URL
// (http[s]://host[:port][/path]), with CloudFront's defaults for the rest:
// TLSv1.2, a 30 s read timeout and a 5 s keep-alive.
func NewCustomOrigin(rawURL string) (*Origin, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("origin URL %q is not http[s]://host[:port][/path]", rawURL)
	}
	port := 443
	if u.Scheme == "http" {
		port = 80
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("origin URL %q: bad port", rawURL)
		}
	}
	return &Origin{Custom: &CustomOrigin{
		DomainName:       u.Hostname(),
		Port:             port,
		Protocol:         u.Scheme,
		Path:             strings.TrimSuffix(u.Path, "/"),
		SSLProtocols:     []string{"TLSv1.2"},
		ReadTimeout:      DefaultOriginReadTimeout,
		KeepaliveTimeout: DefaultOriginKeepalive,
	}}, nil
}

// CloudFront's defaults for a custom origin's timeouts.
const (
	DefaultOriginReadTimeout = 30 * time.Second
	DefaultOriginKeepalive   = 5 * time.Second
)

// URL is the base URL the request goes to: scheme://host[:port][/path]
// (the default port left out). An S3 origin is reached over plain HTTP, the
// protocol of edgelab's viewers (CloudFront uses the viewer's protocol with
// S3). An origin with neither Custom nor S3 has no URL ("").
func (o *Origin) URL() string {
	switch {
	case o == nil:
		return ""
	case o.Custom != nil:
		c := o.Custom
		host := c.DomainName
		if c.Port != 0 && !(c.Protocol == "http" && c.Port == 80) && !(c.Protocol == "https" && c.Port == 443) {
			host += ":" + strconv.Itoa(c.Port)
		}
		return c.Protocol + "://" + host + c.Path
	case o.S3 != nil:
		return "http://" + o.S3.DomainName + o.S3.Path
	}
	return ""
}

// DomainName is the custom or S3 origin's domain name.
func (o *Origin) DomainName() string {
	switch {
	case o == nil:
		return ""
	case o.Custom != nil:
		return o.Custom.DomainName
	case o.S3 != nil:
		return o.S3.DomainName
	}
	return ""
}

// Headers returns the custom or S3 origin's custom headers (nil: none).
func (o *Origin) Headers() http.Header {
	switch {
	case o == nil:
		return nil
	case o.Custom != nil:
		return o.Custom.CustomHeaders
	case o.S3 != nil:
		return o.S3.CustomHeaders
	}
	return nil
}

// Clone returns a deep copy of o (nil for nil).
func (o *Origin) Clone() *Origin {
	if o == nil {
		return nil
	}
	c := *o
	if o.Custom != nil {
		cu := *o.Custom
		cu.SSLProtocols = append([]string(nil), o.Custom.SSLProtocols...)
		cu.CustomHeaders = o.Custom.CustomHeaders.Clone()
		c.Custom = &cu
	}
	if o.S3 != nil {
		s3 := *o.S3
		s3.CustomHeaders = o.S3.CustomHeaders.Clone()
		c.S3 = &s3
	}
	return &c
}
