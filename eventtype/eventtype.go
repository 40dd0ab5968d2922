// Package eventtype is the one place that names CloudFront's four trigger
// points: the edge SDK's edge.EventType (whose value is CloudFront's name,
// "viewer-request"), the wire enum edgelabv1.EventType, and the names users
// write in distribution files, the CLI and scenario files.
package eventtype

import (
	"github.com/edgelab/edgelab/edge"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// Unspecified is the name of the wire enum's zero value and of any unknown
// value.
const Unspecified = "unspecified"

// table pairs each SDK event type with its wire enum, in the order a
// request meets them.
var table = [...]struct {
	sdk  edge.EventType
	wire edgelabv1.EventType
}{
	{edge.ViewerRequest, edgelabv1.EventType_EVENT_TYPE_VIEWER_REQUEST},
	{edge.OriginRequest, edgelabv1.EventType_EVENT_TYPE_ORIGIN_REQUEST},
	{edge.OriginResponse, edgelabv1.EventType_EVENT_TYPE_ORIGIN_RESPONSE},
	{edge.ViewerResponse, edgelabv1.EventType_EVENT_TYPE_VIEWER_RESPONSE},
}

// FromProto maps the wire enum to an SDK event type ("" for UNSPECIFIED or
// an unknown value).
func FromProto(e edgelabv1.EventType) edge.EventType {
	for _, r := range table {
		if r.wire == e {
			return r.sdk
		}
	}
	return ""
}

// ToProto maps an SDK event type to the wire enum (UNSPECIFIED for an
// unknown type).
func ToProto(e edge.EventType) edgelabv1.EventType {
	for _, r := range table {
		if r.sdk == e {
			return r.wire
		}
	}
	return edgelabv1.EventType_EVENT_TYPE_UNSPECIFIED
}

// Name is CloudFront's name of a wire event type ("viewer-request"), or
// Unspecified.
func Name(e edgelabv1.EventType) string {
	if s := FromProto(e); s != "" {
		return string(s)
	}
	return Unspecified
}

// Parse maps CloudFront's name of an event type to the wire enum; ok is
// false for any other name.
func Parse(name string) (e edgelabv1.EventType, ok bool) {
	e = ToProto(edge.EventType(name))
	return e, e != edgelabv1.EventType_EVENT_TYPE_UNSPECIFIED
}
