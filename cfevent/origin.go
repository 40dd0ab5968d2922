package cfevent

import (
	"errors"
	"fmt"
	"time"

	"github.com/edgelab/edgelab/edge"
)

// The origin of an origin event: request.origin.custom or request.origin.s3,
// field for field (timeouts in whole seconds on the JSON side).

type wireCustomOrigin struct {
	CustomHeaders    Headers  `json:"customHeaders"`
	DomainName       string   `json:"domainName"`
	KeepaliveTimeout int      `json:"keepaliveTimeout"`
	Path             string   `json:"path"`
	Port             int      `json:"port"`
	Protocol         string   `json:"protocol"`
	ReadTimeout      int      `json:"readTimeout"`
	SSLProtocols     []string `json:"sslProtocols"`
}

type wireS3Origin struct {
	AuthMethod    string  `json:"authMethod"`
	CustomHeaders Headers `json:"customHeaders"`
	DomainName    string  `json:"domainName"`
	Path          string  `json:"path"`
	Region        string  `json:"region"`
}

type wireOrigin struct {
	Custom *wireCustomOrigin `json:"custom,omitempty"`
	S3     *wireS3Origin     `json:"s3,omitempty"`
}

func originFromWire(w *wireOrigin) (*edge.Origin, error) {
	switch {
	case w.Custom != nil && w.S3 != nil:
		return nil, errors.New("origin has both custom and s3")
	case w.Custom != nil:
		c := *w.Custom
		if c.Protocol == "" {
			c.Protocol = "https"
		}
		if c.Protocol != "http" && c.Protocol != "https" {
			return nil, fmt.Errorf("origin.custom.protocol %q is not http or https", c.Protocol)
		}
		if c.ReadTimeout < 0 || c.KeepaliveTimeout < 0 {
			return nil, errors.New("origin.custom timeouts cannot be negative")
		}
		if len(c.SSLProtocols) == 0 {
			c.SSLProtocols = nil // absent and [] read the same
		}
		port := c.Port
		if port == 0 {
			port = map[string]int{"http": 80, "https": 443}[c.Protocol]
		}
		return &edge.Origin{Custom: &edge.CustomOrigin{
			DomainName: c.DomainName, Port: port, Protocol: c.Protocol, Path: c.Path,
			SSLProtocols: c.SSLProtocols, ReadTimeout: time.Duration(c.ReadTimeout) * time.Second,
			KeepaliveTimeout: time.Duration(c.KeepaliveTimeout) * time.Second, CustomHeaders: HeaderFromCF(c.CustomHeaders),
		}}, nil
	case w.S3 != nil:
		s := w.S3
		return &edge.Origin{S3: &edge.S3Origin{DomainName: s.DomainName, Region: s.Region, AuthMethod: s.AuthMethod,
			Path: s.Path, CustomHeaders: HeaderFromCF(s.CustomHeaders)}}, nil
	}
	return nil, errors.New("origin has neither custom nor s3")
}

func originToWire(o *edge.Origin) (*wireOrigin, error) {
	switch {
	case o.Custom != nil:
		c := o.Custom
		ssl := c.SSLProtocols
		if ssl == nil {
			ssl = []string{}
		}
		return &wireOrigin{Custom: &wireCustomOrigin{
			CustomHeaders: HeaderToCF(c.CustomHeaders), DomainName: c.DomainName,
			KeepaliveTimeout: int(c.KeepaliveTimeout / time.Second), Path: c.Path, Port: c.Port, Protocol: c.Protocol,
			ReadTimeout: int(c.ReadTimeout / time.Second), SSLProtocols: ssl,
		}}, nil
	case o.S3 != nil:
		s := o.S3
		return &wireOrigin{S3: &wireS3Origin{AuthMethod: s.AuthMethod, CustomHeaders: HeaderToCF(s.CustomHeaders),
			DomainName: s.DomainName, Path: s.Path, Region: s.Region}}, nil
	}
	return nil, errors.New("origin has neither custom nor s3")
}
