// Package edge is the handler SDK: the only package edge function code
// imports besides the allowed standard library. It defines the event model
// (Request, Response, Info), the four entry-point signatures, logging, an
// outbound fetch helper, and compiled helpers (JWT, cookies, query strings,
// base64, HMAC) so interpreted handlers pay interpreted cost only for their
// own logic.
//
// A function is a Go package that exports one or more entry points:
//
//	func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error)
//	func OriginRequest(ctx context.Context, req *edge.Request) (*edge.Response, error)
//	func OriginResponse(ctx context.Context, req *edge.Request, resp *edge.Response) error
//	func ViewerResponse(ctx context.Context, req *edge.Request, resp *edge.Response) error
//
// Request triggers change req in place to continue, or return a non-nil
// Response to answer at once. Response triggers change resp in place.
// The same package compiles and unit-tests natively with go test, and runs
// unchanged in the edgelab sandbox (yaegi), where this package is exported
// to the interpreter under its real import path.
package edge

import (
	"context"
	"maps"
	"net/http"
	"time"
)

// EventType names a CloudFront trigger point.
type EventType string

// The four trigger points.
const (
	ViewerRequest  EventType = "viewer-request"
	OriginRequest  EventType = "origin-request"
	OriginResponse EventType = "origin-response"
	ViewerResponse EventType = "viewer-response"
)

// EventTypes lists the trigger points in the order a request meets them.
func EventTypes() []EventType {
	return []EventType{ViewerRequest, OriginRequest, OriginResponse, ViewerResponse}
}

// EntryPoint returns the exported Go function name for the event type,
// e.g. "ViewerRequest", or "" for an unknown type.
func (e EventType) EntryPoint() string {
	switch e {
	case ViewerRequest:
		return "ViewerRequest"
	case OriginRequest:
		return "OriginRequest"
	case OriginResponse:
		return "OriginResponse"
	case ViewerResponse:
		return "ViewerResponse"
	}
	return ""
}

// IsViewer reports whether the event is a viewer event (viewer limits apply).
func (e EventType) IsViewer() bool { return e == ViewerRequest || e == ViewerResponse }

// IsRequest reports whether the event is a request event (may generate a response).
func (e EventType) IsRequest() bool { return e == ViewerRequest || e == OriginRequest }

// Valid reports whether e is one of the four trigger points.
func (e EventType) Valid() bool { return e.EntryPoint() != "" }

// RequestHandler is the signature of ViewerRequest and OriginRequest.
type RequestHandler func(ctx context.Context, req *Request) (*Response, error)

// ResponseHandler is the signature of OriginResponse and ViewerResponse.
type ResponseHandler func(ctx context.Context, req *Request, resp *Response) error

// Request is the viewer's (or, in origin events, the origin-bound) request.
type Request struct {
	// Method is read-only.
	Method string
	// URI is the path only and starts with "/". Changing it changes the object
	// fetched and the cache key, not the cache behavior.
	URI string
	// QueryString is raw, without "?"; it may only be changed in request events.
	QueryString string
	// Header has canonical keys; disallowed headers are not exposed.
	Header http.Header
	// HeaderKeys holds the names the viewer (or the event JSON's "key")
	// spelt differently from their canonical form, by canonical name, e.g.
	// "X-Api-Key" -> "x-API-key". It is informational: the edge sends
	// headers by their canonical names; the event JSON writes these as key.
	HeaderKeys map[string]string
	// ClientIP is the viewer's address (read-only).
	ClientIP string
	// Body is nil unless the association sets include-body.
	Body *Body
	// Origin is set in origin events only; a function may change it.
	Origin *Origin
}

// Body is the request body exposed to a function when the association sets
// include-body. Data is cut at the event's limit and Truncated set.
type Body struct {
	Data      []byte
	Truncated bool
	// Replace asks the edge to send Data to the origin instead of the original body.
	Replace bool
}

// Origin is where an origin event's request will be sent: a custom (HTTP)
// origin or an S3 bucket, as CloudFront's request.origin.custom and
// request.origin.s3. The edge sets exactly one of Custom and S3; a
// function may change the fields, or switch the request to another origin
// by replacing Origin (then set the Host header to the new domain name, as
// CloudFront requires). Build one from a URL with NewCustomOrigin.
type Origin struct {
	// ID is the distribution's origin id ("" for an origin a function built).
	ID string
	// Custom is set for a custom origin.
	Custom *CustomOrigin
	// S3 is set for an S3 origin.
	S3 *S3Origin
}

// CustomOrigin is CloudFront's origin.custom.
type CustomOrigin struct {
	// DomainName is the origin's host name or address.
	DomainName string
	// Port is the origin's port (1-65535).
	Port int
	// Protocol is "http" or "https".
	Protocol string
	// Path is prefixed to the request's URI: "" or "/dir" (no trailing "/").
	Path string
	// SSLProtocols are the TLS versions allowed with https
	// ("TLSv1", "TLSv1.1", "TLSv1.2"; TLSv1.3 is always allowed).
	SSLProtocols []string
	// ReadTimeout bounds the wait for the origin's response headers (1-60 s).
	ReadTimeout time.Duration
	// KeepaliveTimeout is how long an idle origin connection is kept (1-60 s).
	KeepaliveTimeout time.Duration
	// CustomHeaders are added to the origin request.
	CustomHeaders http.Header
}

// S3Origin is CloudFront's origin.s3.
type S3Origin struct {
	// DomainName is the bucket's endpoint (host, or host:port in the lab).
	DomainName string
	// Region is the bucket's region.
	Region string
	// AuthMethod is "none" or "origin-access-identity".
	AuthMethod string
	// Path is prefixed to the request's URI: "" or "/dir" (no trailing "/").
	Path string
	// CustomHeaders are added to the origin request.
	CustomHeaders http.Header
}

// Response is a generated response (request events) or the origin/cached
// response (response events).
type Response struct {
	Status            int
	StatusDescription string
	Header            http.Header
	// HeaderKeys is as Request.HeaderKeys: names spelt differently from
	// their canonical form, by canonical name.
	HeaderKeys map[string]string
	// Body is the generated body. In origin-response the origin's body is
	// not exposed: Body is nil, and a function that leaves it nil keeps the
	// origin's body; setting it replaces that body, and setting it to an
	// empty non-nil value (SetBody("")) removes it.
	Body []byte
}

// Clone returns a deep copy of r.
func (r *Request) Clone() *Request {
	if r == nil {
		return nil
	}
	c := *r
	c.Header = r.Header.Clone()
	c.HeaderKeys = maps.Clone(r.HeaderKeys)
	if r.Body != nil {
		b := *r.Body
		b.Data = append([]byte(nil), r.Body.Data...)
		c.Body = &b
	}
	c.Origin = r.Origin.Clone()
	return &c
}

// Clone returns a deep copy of r.
func (r *Response) Clone() *Response {
	if r == nil {
		return nil
	}
	c := *r
	c.Header = r.Header.Clone()
	c.HeaderKeys = maps.Clone(r.HeaderKeys)
	if r.Body != nil {
		c.Body = append([]byte{}, r.Body...) // an empty body stays set
	}
	return &c
}
