package sandbox

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/edge"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// This file is the one place where the sandbox converts between the edge
// SDK types and their wire form. Other packages (edge node, control plane,
// cfevent) reuse these converters rather than writing their own.

// RequestToProto converts an edge.Request to its wire form. A nil request
// yields nil. Header names are emitted sorted so the encoding is stable.
func RequestToProto(r *edge.Request) *edgelabv1.HttpRequest {
	if r == nil {
		return nil
	}
	out := &edgelabv1.HttpRequest{
		Method:      r.Method,
		Uri:         r.URI,
		QueryString: r.QueryString,
		Headers:     HeaderToProto(r.Header),
		ClientIp:    r.ClientIP,
		HeaderKeys:  maps.Clone(r.HeaderKeys),
	}
	if r.Body != nil {
		out.Body = &edgelabv1.Body{Data: r.Body.Data, Truncated: r.Body.Truncated, Replace: r.Body.Replace, Present: true}
	}
	out.Origin = OriginToProto(r.Origin)
	return out
}

// RequestFromProto converts a wire request to an edge.Request. A nil
// message yields nil. Header is never nil in the result.
func RequestFromProto(p *edgelabv1.HttpRequest) *edge.Request {
	if p == nil {
		return nil
	}
	out := &edge.Request{
		Method:      p.GetMethod(),
		URI:         p.GetUri(),
		QueryString: p.GetQueryString(),
		Header:      HeaderFromProto(p.GetHeaders()),
		ClientIP:    p.GetClientIp(),
		HeaderKeys:  maps.Clone(p.GetHeaderKeys()),
	}
	if b := p.GetBody(); b != nil && (b.GetPresent() || len(b.GetData()) > 0 || b.GetTruncated() || b.GetReplace()) {
		out.Body = &edge.Body{Data: b.GetData(), Truncated: b.GetTruncated(), Replace: b.GetReplace()}
	}
	out.Origin = OriginFromProto(p.GetOrigin())
	return out
}

// ResponseToProto converts an edge.Response to its wire form; nil yields nil.
func ResponseToProto(r *edge.Response) *edgelabv1.HttpResponse {
	if r == nil {
		return nil
	}
	return &edgelabv1.HttpResponse{
		Status:            int32(r.Status),
		StatusDescription: r.StatusDescription,
		Headers:           HeaderToProto(r.Header),
		Body:              r.Body,
		Present:           true,
		BodySet:           r.Body != nil,
		HeaderKeys:        maps.Clone(r.HeaderKeys),
	}
}

// ResponseFromProto converts a wire response to an edge.Response. A nil
// message, or one without the present flag and without any field set,
// yields nil. Header is never nil in the result.
func ResponseFromProto(p *edgelabv1.HttpResponse) *edge.Response {
	if p == nil {
		return nil
	}
	if !p.GetPresent() && p.GetStatus() == 0 && len(p.GetHeaders()) == 0 && len(p.GetHeaderKeys()) == 0 && len(p.GetBody()) == 0 && p.GetStatusDescription() == "" {
		return nil
	}
	out := &edge.Response{
		Status:            int(p.GetStatus()),
		StatusDescription: p.GetStatusDescription(),
		Header:            HeaderFromProto(p.GetHeaders()),
		HeaderKeys:        maps.Clone(p.GetHeaderKeys()),
		Body:              p.GetBody(),
	}
	if p.GetBodySet() && out.Body == nil {
		out.Body = []byte{}
	}
	return out
}

// OriginToProto converts a request's origin to its wire form; nil yields nil.
func OriginToProto(o *edge.Origin) *edgelabv1.RequestOrigin {
	if o == nil {
		return nil
	}
	out := &edgelabv1.RequestOrigin{Id: o.ID, Present: true}
	switch {
	case o.Custom != nil:
		c := o.Custom
		out.DomainName, out.Port, out.Protocol, out.Path = c.DomainName, int32(c.Port), c.Protocol, c.Path
		out.SslProtocols = slices.Clone(c.SSLProtocols)
		out.ReadTimeout, out.KeepaliveTimeout = durationOrNil(c.ReadTimeout), durationOrNil(c.KeepaliveTimeout)
		out.CustomHeaders = HeaderToProto(c.CustomHeaders)
	case o.S3 != nil:
		s := o.S3
		out.S3, out.DomainName, out.Region, out.AuthMethod, out.Path = true, s.DomainName, s.Region, s.AuthMethod, s.Path
		out.CustomHeaders = HeaderToProto(s.CustomHeaders)
	}
	return out
}

// OriginFromProto converts a wire origin to an edge.Origin: nil for nil or
// an empty message without the present flag; Custom unless the s3 flag is
// set, and neither when no field of either is.
func OriginFromProto(p *edgelabv1.RequestOrigin) *edge.Origin {
	if p == nil || !p.GetPresent() && proto.Size(p) == 0 {
		return nil
	}
	out := &edge.Origin{ID: p.GetId()}
	var ch http.Header
	if len(p.GetCustomHeaders()) > 0 {
		ch = HeaderFromProto(p.GetCustomHeaders())
	}
	switch {
	case p.GetS3():
		out.S3 = &edge.S3Origin{DomainName: p.GetDomainName(), Region: p.GetRegion(), AuthMethod: p.GetAuthMethod(), Path: p.GetPath(), CustomHeaders: ch}
	case p.GetDomainName() != "" || p.GetProtocol() != "" || p.GetPort() != 0 || ch != nil:
		out.Custom = &edge.CustomOrigin{DomainName: p.GetDomainName(), Port: int(p.GetPort()), Protocol: p.GetProtocol(), Path: p.GetPath(),
			SSLProtocols: slices.Clone(p.GetSslProtocols()), ReadTimeout: p.GetReadTimeout().AsDuration(),
			KeepaliveTimeout: p.GetKeepaliveTimeout().AsDuration(), CustomHeaders: ch}
	}
	return out
}

func durationOrNil(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

// HeaderToProto converts an http.Header to wire headers, sorted by name,
// values in their original order. A nil or empty header yields nil.
func HeaderToProto(h http.Header) []*edgelabv1.Header {
	if len(h) == 0 {
		return nil
	}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make([]*edgelabv1.Header, 0, len(names))
	for _, k := range names {
		out = append(out, &edgelabv1.Header{Name: k, Values: slices.Clone(h[k])})
	}
	return out
}

// HeaderFromProto converts wire headers to an http.Header. Names are kept
// as sent (the sender canonicalises); repeated names are merged in order.
// The result is never nil.
func HeaderFromProto(hs []*edgelabv1.Header) http.Header {
	out := make(http.Header, len(hs))
	for _, h := range hs {
		if h == nil {
			continue
		}
		out[h.GetName()] = append(out[h.GetName()], h.GetValues()...)
	}
	return out
}

// Info keys used on the wire (WorkerInvoke.info).
const (
	infoDistributionID     = "distribution_id"
	infoDistributionDomain = "distribution_domain"
	infoRequestID          = "request_id"
	infoRegion             = "region"
	infoPoP                = "pop"
	infoNode               = "node"
	infoTier               = "tier"
	infoREC                = "rec"
	infoFunctionName       = "function_name"
	infoFunctionVersion    = "function_version"
)

func infoToProto(i edge.Info) map[string]string {
	m := make(map[string]string, 8)
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put(infoDistributionID, i.DistributionID)
	put(infoDistributionDomain, i.DistributionDomain)
	put(infoRequestID, i.RequestID)
	put(infoRegion, i.Region)
	put(infoPoP, i.PoP)
	put(infoNode, i.Node)
	put(infoTier, i.Tier)
	put(infoREC, i.REC)
	put(infoFunctionName, i.FunctionName)
	if i.FunctionVersion != 0 {
		m[infoFunctionVersion] = strconv.FormatInt(i.FunctionVersion, 10)
	}
	return m
}

func infoFromProto(m map[string]string, e edge.EventType) edge.Info {
	return edge.Info{
		EventType:          e,
		DistributionID:     m[infoDistributionID],
		DistributionDomain: m[infoDistributionDomain],
		RequestID:          m[infoRequestID],
		Region:             m[infoRegion],
		PoP:                m[infoPoP],
		Node:               m[infoNode],
		Tier:               m[infoTier],
		REC:                m[infoREC],
		FunctionName:       m[infoFunctionName],
		FunctionVersion:    parseInt64(m[infoFunctionVersion]),
	}
}

func logsToProto(ls []LogLine) []*edgelabv1.LogLine {
	if len(ls) == 0 {
		return nil
	}
	out := make([]*edgelabv1.LogLine, len(ls))
	for i, l := range ls {
		out[i] = &edgelabv1.LogLine{Time: timestamppb.New(l.Time), Message: l.Message, Kind: "function"}
	}
	return out
}

func logsFromProto(ls []*edgelabv1.LogLine) []LogLine {
	if len(ls) == 0 {
		return nil
	}
	out := make([]LogLine, len(ls))
	for i, l := range ls {
		var t time.Time
		if l.GetTime() != nil {
			t = l.GetTime().AsTime()
		}
		out[i] = LogLine{Time: t, Message: l.GetMessage()}
	}
	return out
}

func parseInt64(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0
	}
	return n
}
