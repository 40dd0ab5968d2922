package cfevent

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/edge"
)

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSamples(t *testing.T) {
	tests := []struct {
		file   string
		check  func(t *testing.T, ev *Event)
		typ    edge.EventType
		status int
	}{
		{"viewer-request.json", func(t *testing.T, ev *Event) {
			r := ev.Request
			if r.Method != "GET" || r.URI != "/picture.jpg" || r.QueryString != "Size=LARGE&color=red" || r.ClientIP != "203.0.113.178" {
				t.Errorf("request = %+v", r)
			}
			if got := r.Header.Values("Cookie"); !reflect.DeepEqual(got, []string{"session=abc", "group=b"}) {
				t.Errorf("Cookie = %v", got)
			}
			if r.Header.Get("Accept") != "*/*" || edge.BearerToken(r.Header) == "" {
				t.Errorf("headers = %v", r.Header)
			}
			if ev.Info().DistributionID != "EDFDVBD6EXAMPLE" || ev.Info().EventType != edge.ViewerRequest {
				t.Errorf("info = %+v", ev.Info())
			}
		}, edge.ViewerRequest, 0},
		{"origin-request.json", func(t *testing.T, ev *Event) {
			o := ev.Request.Origin
			if o == nil || o.URL() != "https://example.org:8443/static" || o.Headers().Get("X-Origin-Key") != "secret" || o.Custom.ReadTimeout != 30*time.Second {
				t.Errorf("origin = %+v", o)
			}
			if ev.Request.Header.Get("Cloudfront-Viewer-Country") != "DE" {
				t.Errorf("headers = %v", ev.Request.Header)
			}
		}, edge.OriginRequest, 0},
		{"origin-request-body.json", func(t *testing.T, ev *Event) {
			b := ev.Request.Body
			if b == nil || b.Replace || b.Truncated || !strings.Contains(string(b.Data), `"username":"LambdaEdge"`) && !strings.Contains(string(b.Data), `"username":"Lambda@Edge"`) {
				t.Errorf("body = %+v", b)
			}
			if ev.Request.Origin == nil || ev.Request.Origin.S3 == nil || ev.Request.Origin.DomainName() != "awsexamplebucket.s3.amazonaws.com" {
				t.Errorf("origin = %+v", ev.Request.Origin)
			}
		}, edge.OriginRequest, 0},
		{"origin-response.json", func(t *testing.T, ev *Event) {
			if ev.Response.StatusDescription != "INTERNAL SERVER ERROR" || ev.Response.Header.Get("Server") != "gunicorn/19.9.0" {
				t.Errorf("response = %+v", ev.Response)
			}
		}, edge.OriginResponse, 500},
		{"viewer-response.json", nil, edge.ViewerResponse, 200},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev, err := Parse(readSample(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type != tt.typ {
				t.Errorf("Type = %q, want %q", ev.Type, tt.typ)
			}
			if tt.status != 0 && (ev.Response == nil || ev.Response.Status != tt.status) {
				t.Errorf("Response = %+v, want status %d", ev.Response, tt.status)
			}
			if tt.check != nil {
				tt.check(t, ev)
			}
			// Round trip: Marshal then Parse gives the same event.
			b, err := Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Parse(b)
			if err != nil {
				t.Fatalf("re-parse: %v\n%s", err, b)
			}
			if !reflect.DeepEqual(ev, again) {
				t.Errorf("round trip differs:\n%+v\n%+v", ev, again)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"not json", "{", "parse event: unexpected end of JSON input"},
		{"no records", `{"Records": []}`, "parse event: no Records"},
		{"no request", `{"Records":[{"cf":{"config":{"eventType":"viewer-request"}}}]}`, "parse event: Records[0].cf.request is missing"},
		{"bad event type", `{"Records":[{"cf":{"config":{"eventType":"edge"},"request":{"uri":"/"}}}]}`, `parse event: unknown eventType "edge" (want viewer-request, origin-request, origin-response or viewer-response)`},
		{"response event without response", `{"Records":[{"cf":{"config":{"eventType":"viewer-response"},"request":{"uri":"/"}}}]}`, "parse event: viewer-response event has no Records[0].cf.response"},
		{"bad status", `{"Records":[{"cf":{"config":{},"request":{"uri":"/"},"response":{"status":"abc"}}}]}`, `parse event: response: status "abc" is not a number`},
		{"bad status type", `{"Records":[{"cf":{"config":{},"request":{"uri":"/"},"response":{"status":true}}}]}`, "parse event: status must be a string or number: json: cannot unmarshal bool into Go value of type json.Number"},
		{"bad base64", `{"Records":[{"cf":{"config":{},"request":{"uri":"/","body":{"encoding":"base64","data":"!!"}}}}]}`, "parse event: request: body is not valid base64: illegal base64 data at input byte 0"},
		{"bad encoding", `{"Records":[{"cf":{"config":{},"request":{"uri":"/","body":{"encoding":"gzip","data":""}}}}]}`, `parse event: request: body encoding "gzip" is not base64 or text`},
		{"bad action", `{"Records":[{"cf":{"config":{},"request":{"uri":"/","body":{"action":"delete","data":""}}}}]}`, `parse event: request: body action "delete" is not read-only or replace`},
		{"empty origin", `{"Records":[{"cf":{"config":{},"request":{"uri":"/","origin":{}}}}]}`, "parse event: request: origin has neither custom nor s3"},
		{"bad origin protocol", `{"Records":[{"cf":{"config":{},"request":{"uri":"/","origin":{"custom":{"protocol":"ftp"}}}}}]}`, `parse event: request: origin.custom.protocol "ftp" is not http or https`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse = %+v, want error", ev)
			}
			if err.Error() != tt.want {
				t.Errorf("err:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestParseNumericStatusAndMissingType(t *testing.T) {
	ev, err := Parse([]byte(`{"Records":[{"cf":{"config":{},"request":{"uri":"/","headers":{"x-a":[{"value":"1"}]}},"response":{"status":404,"body":"aGk=","bodyEncoding":"base64"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != "" || ev.Response.Status != 404 || string(ev.Response.Body) != "hi" || ev.Request.Header.Get("X-A") != "1" {
		t.Errorf("event = %+v %+v", ev, ev.Response)
	}
}

func TestMarshalResult(t *testing.T) {
	gen := edge.NewResponse(302, "")
	gen.Header.Set("Location", "https://example.com/")
	bin := &edge.Response{Status: 200, Header: http.Header{}, Body: []byte{0xff, 0x00}}
	req := &edge.Request{Method: "GET", URI: "/a", QueryString: "x=1", Header: http.Header{"X-Forwarded-For": {"1.2.3.4"}},
		Body: &edge.Body{Data: []byte("new"), Replace: true}, Origin: mustOrigin(t, "http://127.0.0.1:9001/base/")}
	tests := []struct {
		name string
		e    edge.EventType
		req  *edge.Request
		resp *edge.Response
		want string
	}{
		{"generated redirect", edge.ViewerRequest, req, gen,
			`{"status":"302","statusDescription":"Found","headers":{"location":[{"key":"Location","value":"https://example.com/"}]}}`},
		{"binary body", edge.OriginResponse, nil, bin,
			`{"status":"200","headers":{},"body":"/wA=","bodyEncoding":"base64"}`},
		{"continue request", edge.OriginRequest, req, nil,
			`{"clientIp":"","headers":{"x-forwarded-for":[{"key":"X-Forwarded-For","value":"1.2.3.4"}]},"method":"GET","querystring":"x=1","uri":"/a","body":{"inputTruncated":false,"action":"replace","encoding":"base64","data":"bmV3"},"origin":{"custom":{"customHeaders":{},"domainName":"127.0.0.1","keepaliveTimeout":5,"path":"/base","port":9001,"protocol":"http","readTimeout":30,"sslProtocols":["TLSv1.2"]}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := MarshalResult(tt.e, tt.req, tt.resp)
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("MarshalResult =\n%s\nwant\n%s", b, tt.want)
			}
		})
	}
	if _, err := MarshalResult(edge.ViewerResponse, req, nil); err == nil {
		t.Error("MarshalResult accepted a response event without response")
	}
	if _, err := MarshalResult(edge.ViewerRequest, nil, nil); err == nil {
		t.Error("MarshalResult accepted no request")
	}
	if _, err := Marshal(&Event{Request: &edge.Request{Origin: &edge.Origin{}}}); err == nil {
		t.Error("Marshal accepted an origin with neither custom nor s3")
	}
}

func mustOrigin(t *testing.T, u string) *edge.Origin {
	t.Helper()
	o, err := edge.NewCustomOrigin(u)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
