package sandbox

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/edgelab/edgelab/eventtype"

	"github.com/edgelab/edgelab/edge"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

func TestRequestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		req  *edge.Request
	}{
		{"nil", nil},
		{"minimal", &edge.Request{Method: "GET", URI: "/", Header: http.Header{}}},
		{"full", &edge.Request{
			Method: "POST", URI: "/a/b", QueryString: "x=1&y=%20", ClientIP: "203.0.113.9",
			Header: http.Header{"Accept": {"a", "b"}, "X-Empty": {""}},
			Body:   &edge.Body{Data: []byte("body"), Truncated: true, Replace: true},
			Origin: &edge.Origin{ID: "web", Custom: &edge.CustomOrigin{DomainName: "o", Port: 8443, Protocol: "https", Path: "/p",
				SSLProtocols: []string{"TLSv1.1", "TLSv1.2"}, ReadTimeout: 4 * time.Second, KeepaliveTimeout: 7 * time.Second,
				CustomHeaders: http.Header{"X-Origin": {"1"}}}},
			HeaderKeys: map[string]string{"Accept": "ACCEPT"},
		}},
		{"s3 origin", &edge.Request{Method: "GET", URI: "/", Header: http.Header{},
			Origin: &edge.Origin{ID: "media", S3: &edge.S3Origin{DomainName: "127.0.0.1:9003", Region: "eu-west-1", AuthMethod: "none",
				Path: "/media", CustomHeaders: http.Header{"X-S3": {"1"}}}}}},
		{"empty body and origin", &edge.Request{Method: "GET", URI: "/", Header: http.Header{},
			Body: &edge.Body{}, Origin: &edge.Origin{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RequestFromProto(RequestToProto(tt.req))
			if !reflect.DeepEqual(got, tt.req) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", got, tt.req)
			}
		})
	}
}

func TestResponseRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		resp *edge.Response
	}{
		{"nil", nil},
		{"zero", &edge.Response{Header: http.Header{}}},
		{"full", &edge.Response{Status: 302, StatusDescription: "Found",
			Header: http.Header{"Location": {"/x"}, "Set-Cookie": {"a=1", "b=2"}}, Body: []byte("hi")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ResponseFromProto(ResponseToProto(tt.resp))
			if !reflect.DeepEqual(got, tt.resp) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", got, tt.resp)
			}
		})
	}
}

func TestFromProtoHostile(t *testing.T) {
	// Nil entries, duplicate names and absent presence flags must not panic.
	req := RequestFromProto(&edgelabv1.HttpRequest{Headers: []*edgelabv1.Header{nil, {Name: "A", Values: []string{"1"}}, {Name: "A", Values: []string{"2"}}},
		Body: &edgelabv1.Body{}, Origin: &edgelabv1.RequestOrigin{}})
	if got := req.Header["A"]; !reflect.DeepEqual(got, []string{"1", "2"}) || req.Body != nil || req.Origin != nil {
		t.Fatalf("got %#v", req)
	}
	if ResponseFromProto(&edgelabv1.HttpResponse{}) != nil {
		t.Fatal("empty response message should be nil")
	}
}

func TestEventTypeProto(t *testing.T) {
	for _, e := range edge.EventTypes() {
		if got := eventtype.FromProto(eventtype.ToProto(e)); got != e {
			t.Errorf("%s -> %s", e, got)
		}
	}
	if eventtype.ToProto("bogus") != edgelabv1.EventType_EVENT_TYPE_UNSPECIFIED || eventtype.FromProto(99) != "" {
		t.Error("unknown values not mapped to zero")
	}
}

func TestInfoRoundTrip(t *testing.T) {
	in := edge.Info{EventType: edge.OriginRequest, DistributionID: "d", DistributionDomain: "x.test", RequestID: "r",
		Region: "eu-west-1", PoP: "DUB", Node: "n1", FunctionName: "auth", FunctionVersion: 7}
	if got := infoFromProto(infoToProto(in), edge.OriginRequest); got != in {
		t.Fatalf("got %+v", got)
	}
	if got := infoFromProto(map[string]string{infoFunctionVersion: "x"}, edge.ViewerRequest); got.FunctionVersion != 0 {
		t.Fatalf("bad version parsed as %d", got.FunctionVersion)
	}
}
