package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/edgelab/edgelab/edge"
)

// The origin rules: what an origin-request function may set as the request's
// origin (CloudFront's "Lambda@Edge event structure", request.origin). A
// violation is a validation error naming the field, e.g.
// "origin.custom.port: 70000 is outside 1-65535".

// sslProtocols are the values origin.custom.sslProtocols accepts.
var sslProtocols = []string{"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"}

// s3AuthMethods are the values origin.s3.authMethod accepts.
var s3AuthMethods = []string{"none", "origin-access-identity"}

// Origin timeouts a function may set (seconds, as CloudFront bounds them).
const (
	minOriginTimeout = time.Second
	maxOriginTimeout = 60 * time.Second
)

// CheckOrigin reports the first problem with an origin a function set, or nil.
func CheckOrigin(o *edge.Origin) error {
	switch {
	case o == nil:
		return fmt.Errorf("origin: cannot be removed")
	case o.Custom != nil && o.S3 != nil:
		return fmt.Errorf("origin: set custom or s3, not both")
	case o.Custom != nil:
		return checkCustomOrigin(o.Custom)
	case o.S3 != nil:
		return checkS3Origin(o.S3)
	}
	return fmt.Errorf("origin: one of custom or s3 is required")
}

func checkCustomOrigin(c *edge.CustomOrigin) error {
	const f = "origin.custom."
	if err := checkDomainName(f+"domainName", c.DomainName); err != nil {
		return err
	}
	if c.Protocol != "http" && c.Protocol != "https" {
		return fmt.Errorf(f+"protocol: %q is not http or https", c.Protocol)
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf(f+"port: %d is outside 1-65535", c.Port)
	}
	if err := checkOriginPath(f+"path", c.Path); err != nil {
		return err
	}
	for _, p := range c.SSLProtocols {
		if !slices.Contains(sslProtocols, p) {
			return fmt.Errorf(f+"sslProtocols: %q is not one of %s", p, strings.Join(sslProtocols, ", "))
		}
	}
	if c.ReadTimeout != 0 && (c.ReadTimeout < minOriginTimeout || c.ReadTimeout > maxOriginTimeout) {
		return fmt.Errorf(f+"readTimeout: %s is outside 1s-60s", c.ReadTimeout)
	}
	if c.KeepaliveTimeout != 0 && (c.KeepaliveTimeout < minOriginTimeout || c.KeepaliveTimeout > maxOriginTimeout) {
		return fmt.Errorf(f+"keepaliveTimeout: %s is outside 1s-60s", c.KeepaliveTimeout)
	}
	return nil
}

func checkS3Origin(s *edge.S3Origin) error {
	const f = "origin.s3."
	if err := checkDomainName(f+"domainName", s.DomainName); err != nil {
		return err
	}
	if s.AuthMethod != "" && !slices.Contains(s3AuthMethods, s.AuthMethod) {
		return fmt.Errorf(f+"authMethod: %q is not none or origin-access-identity", s.AuthMethod)
	}
	return checkOriginPath(f+"path", s.Path)
}

// checkDomainName accepts a host name or address, with a port for S3
// origins in the lab (host:port), and nothing else: no scheme, path or space.
func checkDomainName(field, d string) error {
	if d == "" {
		return fmt.Errorf("%s: is required", field)
	}
	if strings.ContainsAny(d, "/?#@ \t\r\n") {
		return fmt.Errorf("%s: %q is not a domain name", field, truncate(d, 64))
	}
	return nil
}

func checkOriginPath(field, p string) error {
	if p != "" && (!strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.ContainsAny(p, "?#")) {
		return fmt.Errorf("%s: %q must be empty or start with \"/\" and not end with one", field, truncate(p, 64))
	}
	return nil
}
