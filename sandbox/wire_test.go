package sandbox

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/eventtype"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/edge"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// wireRequests are requests the codec must carry exactly as the proto
// converters do.
func wireRequests() map[string]*edge.Request {
	return map[string]*edge.Request{
		"nil header": {Method: "GET", URI: "/"},
		"typical": {Method: "GET", URI: "/index.html", QueryString: "a=1&b=2", ClientIP: "192.0.2.1",
			Header: http.Header{"Accept": {"text/html"}, "Cookie": {"a=b", "c=d"}, "Host": {"d.test"}}},
		"empty values and names": {Method: "GET", URI: "/x", Header: http.Header{"X-Empty": {""}, "X-None": {}, "": {"v"}}},
		"body": {Method: "POST", URI: "/p", Header: http.Header{},
			Body: &edge.Body{Data: bytes.Repeat([]byte("b"), 70000), Truncated: true}},
		"empty body present": {Method: "POST", URI: "/p", Header: http.Header{}, Body: &edge.Body{Data: []byte{}}},
		"replace body":       {Method: "PUT", URI: "/p", Header: http.Header{}, Body: &edge.Body{Data: []byte("new"), Replace: true}},
		"origin": {Method: "GET", URI: "/o", Header: http.Header{"A": {"1"}},
			Origin: &edge.Origin{ID: "o1", Custom: &edge.CustomOrigin{DomainName: "127.0.0.1", Port: 1, Protocol: "http", Path: "/base",
				SSLProtocols: []string{"TLSv1.2"}, ReadTimeout: 3 * time.Second, KeepaliveTimeout: 1500 * time.Millisecond,
				CustomHeaders: http.Header{"X-Secret": {"s"}}}}},
		"s3 origin": {Method: "GET", URI: "/o", Header: http.Header{},
			Origin: &edge.Origin{ID: "m", S3: &edge.S3Origin{DomainName: "bucket.example", Region: "us-east-1", AuthMethod: "origin-access-identity",
				Path: "/k", CustomHeaders: http.Header{"X-A": {"1"}}}}},
		"header keys":           {Method: "GET", URI: "/k", Header: http.Header{"X-Api-Key": {"k"}}, HeaderKeys: map[string]string{"X-Api-Key": "x-API-key"}},
		"origin without fields": {Method: "GET", URI: "/o", Header: http.Header{}, Origin: &edge.Origin{}},
		"long header value":     {Method: "GET", URI: "/l", Header: http.Header{"X-Long": {strings.Repeat("v", 200), strings.Repeat("w", 20000)}}},
	}
}

func wireResponses() map[string]*edge.Response {
	return map[string]*edge.Response{
		"nil":       nil,
		"zero":      {},
		"typical":   {Status: 200, StatusDescription: "OK", Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte("hello")},
		"negative":  {Status: -5},
		"huge":      {Status: 1 << 40, Body: bytes.Repeat([]byte("x"), 300)},
		"no header": {Status: 302, Header: nil},
	}
}

// viaProto is what the proto converters make of r after a round trip.
func reqViaProto(t *testing.T, r *edge.Request) *edge.Request {
	t.Helper()
	b, err := proto.Marshal(RequestToProto(r))
	if err != nil {
		t.Fatal(err)
	}
	p := &edgelabv1.HttpRequest{}
	if err := proto.Unmarshal(b, p); err != nil {
		t.Fatal(err)
	}
	return RequestFromProto(p)
}

func respViaProto(t *testing.T, r *edge.Response) *edge.Response {
	t.Helper()
	if r == nil {
		return nil
	}
	b, err := proto.Marshal(ResponseToProto(r))
	if err != nil {
		t.Fatal(err)
	}
	p := &edgelabv1.HttpResponse{}
	if err := proto.Unmarshal(b, p); err != nil {
		t.Fatal(err)
	}
	return ResponseFromProto(p)
}

// TestWireInvokeAgreesWithProto: the hand encoder's bytes decode with
// proto to what the proto converters would have sent, and the hand
// decoder reads proto's bytes as the proto converters would.
func TestWireInvokeAgreesWithProto(t *testing.T) {
	info := edge.Info{DistributionID: "d1", DistributionDomain: "d.test", RequestID: "rid-1", Region: "eu", PoP: "DUB",
		Node: "n1", FunctionName: "fn", FunctionVersion: 42}
	fault := FetchFault{Delay: 1500 * time.Millisecond, Err: "boom", Status: 503}
	lat := FetchLatency{Default: 150 * time.Millisecond, ByHost: map[string]time.Duration{"auth.test": 2 * time.Millisecond, "api.test:8443": 0}}
	for reqName, req := range wireRequests() {
		for respName, resp := range wireResponses() {
			t.Run(reqName+"/"+respName, func(t *testing.T) {
				msg := &invokeMsg{event: edge.OriginResponse, req: req, resp: resp, timeout: 2*time.Second + 5, info: info, fault: fault, latency: lat}
				b, err := msg.appendFrame(nil, 77)
				if err != nil {
					t.Fatal(err)
				}
				// Hand encoder -> proto decoder.
				pf := &edgelabv1.WorkerFrame{}
				if err := proto.Unmarshal(b, pf); err != nil {
					t.Fatalf("proto cannot read the hand encoding: %v", err)
				}
				pi := pf.GetInvoke()
				if pf.GetId() != 77 || pi == nil {
					t.Fatalf("frame %v", pf)
				}
				if got, want := RequestFromProto(pi.GetRequest()), reqViaProto(t, req); !reflect.DeepEqual(got, want) {
					t.Errorf("request via proto decoder:\n got %+v\nwant %+v", got, want)
				}
				if got, want := ResponseFromProto(pi.GetResponse()), respViaProto(t, resp); !reflect.DeepEqual(got, want) {
					t.Errorf("response via proto decoder:\n got %+v\nwant %+v", got, want)
				}
				wantInfo := infoToProto(info)
				fault.toInfo(wantInfo)
				wantInfo[infoFetchLatency] = "150ms;api.test:8443=0s;auth.test=2ms"
				if !maps.Equal(pi.GetInfo(), wantInfo) {
					t.Errorf("info %v, want %v", pi.GetInfo(), wantInfo)
				}
				if pi.GetTimeout().AsDuration() != msg.timeout || eventtype.FromProto(pi.GetEventType()) != msg.event {
					t.Errorf("timeout %v event %v", pi.GetTimeout().AsDuration(), pi.GetEventType())
				}
				// Hand encoder -> hand decoder.
				f, err := decodeFrame(b)
				if err != nil {
					t.Fatal(err)
				}
				if f.id != 77 || f.invoke == nil {
					t.Fatalf("decoded %+v", f)
				}
				if !reflect.DeepEqual(f.invoke, &invokeMsg{event: msg.event, req: reqViaProto(t, req), resp: respViaProto(t, resp),
					timeout: msg.timeout, info: info, fault: fault, latency: lat}) {
					t.Errorf("hand round trip: %+v", f.invoke)
				}
				// Proto encoder -> hand decoder.
				pb, err := proto.Marshal(pf)
				if err != nil {
					t.Fatal(err)
				}
				f2, err := decodeFrame(pb)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(f2, f) {
					t.Errorf("proto bytes decode to %+v, hand bytes to %+v", f2.invoke, f.invoke)
				}
			})
		}
	}
}

func TestWireResultAgreesWithProto(t *testing.T) {
	logs := []LogLine{{Time: time.Unix(1700000000, 123456789).UTC(), Message: "hello"}, {Time: time.Unix(-5, 0).UTC(), Message: ""}}
	tests := map[string]*resultMsg{
		"ok":         {req: wireRequests()["typical"], resp: wireResponses()["typical"], duration: 15 * time.Microsecond, cold: true, logs: logs},
		"error":      {err: "handler failed", kind: kindError, duration: -time.Second},
		"no request": {resp: &edge.Response{Status: 204, Header: http.Header{}}},
		"empty":      {},
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := m.appendFrame(nil, 5)
			if err != nil {
				t.Fatal(err)
			}
			pf := &edgelabv1.WorkerFrame{}
			if err := proto.Unmarshal(b, pf); err != nil {
				t.Fatalf("proto cannot read the hand encoding: %v", err)
			}
			pr := pf.GetInvokeResult()
			if pf.GetId() != 5 || pr == nil {
				t.Fatalf("frame %v", pf)
			}
			want := &resultMsg{err: m.err, kind: m.kind, duration: m.duration, cold: m.cold, logs: logsFromProto(logsToProto(m.logs))}
			if m.req != nil {
				want.req = reqViaProto(t, m.req)
			}
			want.resp = respViaProto(t, m.resp)
			got := &resultMsg{req: RequestFromProto(pr.GetRequest()), resp: ResponseFromProto(pr.GetResponse()), err: pr.GetError(),
				kind: pr.GetErrorKind(), duration: pr.GetDuration().AsDuration(), cold: pr.GetCold(), logs: logsFromProto(pr.GetLogs())}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("via proto decoder:\n got %+v\nwant %+v", got, want)
			}
			f, err := decodeFrame(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.result, want) {
				t.Errorf("hand round trip:\n got %+v\nwant %+v", f.result, want)
			}
			pb, err := proto.Marshal(pf)
			if err != nil {
				t.Fatal(err)
			}
			f2, err := decodeFrame(pb)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f2.result, want) {
				t.Errorf("proto bytes decode to %+v", f2.result)
			}
		})
	}
}

func TestWireOtherFramesGoThroughProto(t *testing.T) {
	in := &edgelabv1.WorkerFrame{Id: 9, Msg: &edgelabv1.WorkerFrame_LoadResult{LoadResult: &edgelabv1.WorkerLoadResult{
		Error: "x", Duration: durationpb.New(time.Second)}}}
	b, err := protoFrame{in}.appendFrame(nil, 9)
	if err != nil {
		t.Fatal(err)
	}
	f, err := decodeFrame(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.id != 9 || !proto.Equal(f.pb, in) || f.kind() != "*edgelabv1.WorkerFrame_LoadResult" {
		t.Fatalf("got %+v", f)
	}
	empty, err := decodeFrame(nil)
	if err != nil || empty.kind() != "empty frame" {
		t.Fatalf("empty frame: %v %v", empty, err)
	}
}

func TestWireDurationSaturates(t *testing.T) {
	tests := []struct {
		name string
		d    *durationpb.Duration
		want time.Duration
	}{
		{"zero", &durationpb.Duration{}, 0},
		{"positive", &durationpb.Duration{Seconds: 3, Nanos: 5}, 3*time.Second + 5},
		{"negative", &durationpb.Duration{Seconds: -3, Nanos: -5}, -3*time.Second - 5},
		{"too large", &durationpb.Duration{Seconds: 1 << 62}, time.Duration(1<<63 - 1)},
		{"too small", &durationpb.Duration{Seconds: -(1 << 62)}, -1 << 63},
		{"max seconds plus nanos", &durationpb.Duration{Seconds: 9223372036, Nanos: 999999999}, time.Duration(1<<63 - 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := proto.Marshal(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeDuration(b)
			if err != nil || got != tt.want {
				t.Fatalf("decodeDuration = %v, %v; want %v", got, err, tt.want)
			}
			if got != tt.d.AsDuration() {
				t.Fatalf("durationpb says %v", tt.d.AsDuration())
			}
		})
	}
}

// hostileFrames are byte strings a broken or hostile peer might send.
func hostileFrames() map[string][]byte {
	valid, _ := (&invokeMsg{event: edge.ViewerRequest, req: wireRequests()["typical"], timeout: time.Second}).appendFrame(nil, 1)
	return map[string][]byte{
		"truncated tag":            {0x80},
		"truncated varint":         {0x08, 0xff},
		"length past end":          {0x22, 0x7f, 0x01},
		"huge length":              {0x22, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"nested length past end":   {0x22, 0x02, 0x12, 0x05},
		"end group without start":  {0x0c},
		"field number zero":        {0x00, 0x01},
		"truncated valid frame":    valid[:len(valid)-3],
		"wrong wire type for id":   {0x0a, 0x00},
		"fixed32 in request":       {0x22, 0x07, 0x12, 0x05, 0x0d, 1, 2, 3, 4},
		"invalid utf8 in request":  {0x22, 0x05, 0x12, 0x03, 0x0a, 0x01, 0xff},
		"result with bad log line": {0x2a, 0x04, 0x3a, 0x02, 0x0a, 0x05},
	}
}

func TestWireDecodeHostile(t *testing.T) {
	wantErr := map[string]bool{
		"truncated tag": true, "truncated varint": true, "length past end": true, "huge length": true,
		"nested length past end": true, "end group without start": true, "field number zero": true,
		"truncated valid frame": true, "result with bad log line": true,
	}
	for name, b := range hostileFrames() {
		t.Run(name, func(t *testing.T) {
			f, err := decodeFrame(b)
			if wantErr[name] {
				if !errors.Is(err, errBadFrame) {
					t.Fatalf("got %+v, %v; want errBadFrame", f, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
		})
	}
	// Wrong wire types are skipped like unknown fields; bytes that are not
	// UTF-8 are carried (HTTP allows them; proto3 strings would not).
	f, err := decodeFrame(hostileFrames()["invalid utf8 in request"])
	if err != nil || f.invoke == nil || f.invoke.req.Method != "\xff" {
		t.Fatalf("got %+v %v", f, err)
	}
}

func TestWireLogTimestamp(t *testing.T) {
	ts := time.Date(2024, 2, 3, 4, 5, 6, 7, time.UTC)
	b, err := (&resultMsg{logs: []LogLine{{Time: ts, Message: "m"}}}).appendFrame(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	pf := &edgelabv1.WorkerFrame{}
	if err := proto.Unmarshal(b, pf); err != nil {
		t.Fatal(err)
	}
	l := pf.GetInvokeResult().GetLogs()
	if len(l) != 1 || !proto.Equal(l[0].GetTime(), timestamppb.New(ts)) || l[0].GetKind() != "function" {
		t.Fatalf("log lines %v", l)
	}
}

// TestWorkerCarriesNonUTF8Headers: a viewer header that is not UTF-8 (a
// Latin-1 value, legal in HTTP) reaches the handler and comes back; proto3
// strings would have refused to encode it and failed the invocation.
func TestWorkerCarriesNonUTF8Headers(t *testing.T) {
	m, err := NewManager(ManagerConfig{WorkerCommand: []string{os.Args[0]}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	src := hdr + `
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	req.Header.Set("X-Copy", req.Header.Get("X-Latin"))
	return nil, nil
}
`
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.Load(ctx, code("latin", src)); err != nil {
		t.Fatal(err)
	}
	inv := Invocation{Function: "latin", Version: 1, Event: edge.ViewerRequest,
		Request: &edge.Request{Method: "GET", URI: "/", Header: http.Header{"X-Latin": {"caf\xe9"}}}}
	res, err := m.Invoke(ctx, inv)
	if err != nil || res.Outcome != OutcomeContinue {
		t.Fatalf("%v %+v", err, res)
	}
	if got := res.Request.Header.Get("X-Copy"); got != "caf\xe9" {
		t.Fatalf("X-Copy = %q", got)
	}
	if pids := m.WorkerPIDs(); len(pids) != 1 {
		t.Fatalf("worker pids %v", pids)
	}
}

// TestWireHeaderValuesDoNotAlias: the decoded header value slices share
// one backing array; appending to or editing one name's values never
// shows under another name, in the request or the response.
func TestWireHeaderValuesDoNotAlias(t *testing.T) {
	h := http.Header{"A": {"a1", "a2"}, "B": {"b1"}, "C": {"c1", "c2", "c3"}}
	for i := range 20 { // past the first slab size
		h.Add("X-"+strconv.Itoa(i), "v")
	}
	msg := &invokeMsg{event: edge.ViewerResponse, req: &edge.Request{Method: "GET", URI: "/", Header: h},
		resp: &edge.Response{Status: 200, Header: h.Clone()}}
	b, err := msg.appendFrame(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	f, err := decodeFrame(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []http.Header{f.invoke.req.Header, f.invoke.resp.Header} {
		if !reflect.DeepEqual(got, h) {
			t.Fatalf("decoded %v, want %v", got, h)
		}
		for name := range h { // in place
			got[name][0] = "edited"
		}
		for name := range h { // past the window: must not reach the next name's
			got[name] = append(got[name], "added")
		}
		for name, want := range h {
			vs := got[name]
			if len(vs) != len(want)+1 || vs[0] != "edited" || !slices.Equal(vs[1:len(want)], want[1:]) || vs[len(want)] != "added" {
				t.Fatalf("%s = %q after editing every name, want its own %q edited and appended", name, vs, want)
			}
		}
	}
}

// TestCountFieldIsCapped: the header count that sizes maps is a hint:
// a frame of many entries counts only up to maxSizeHint, a short one
// exactly.
func TestCountFieldIsCapped(t *testing.T) {
	h := http.Header{}
	for i := range 3 {
		h.Add("X-"+strconv.Itoa(i), "v")
	}
	if n := countField(appendHeader(nil, fReqHeaders, h), fReqHeaders); n != 3 {
		t.Fatalf("3 headers counted %d", n)
	}
	var b []byte
	for range 10 * maxSizeHint {
		b = appendHeader(b, fReqHeaders, http.Header{"X": {"v"}})
	}
	if n := countField(b, fReqHeaders); n != maxSizeHint {
		t.Fatalf("%d entries counted %d, want the cap %d", 10*maxSizeHint, n, maxSizeHint)
	}
	r, err := (&decoder{}).decodeRequest(b)
	if err != nil || len(r.Header["X"]) != 10*maxSizeHint {
		t.Fatalf("decoded %d values of X (%v), want %d", len(r.Header["X"]), err, 10*maxSizeHint)
	}
}
