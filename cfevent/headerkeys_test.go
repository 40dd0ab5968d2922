package cfevent

import (
	"strings"
	"testing"

	"github.com/edgelab/edgelab/edge"
)

// TestHeaderKeysKeepTheirCase: the key of each header entry keeps the case
// the event spelt it in, through Parse and MarshalResult; only the map name
// is lowercase. A header the function adds gets its canonical key.
func TestHeaderKeysKeepTheirCase(t *testing.T) {
	ev, err := Parse([]byte(`{"Records":[{"cf":{"config":{"eventType":"viewer-request"},"request":{"method":"GET","uri":"/",
		"headers":{"x-api-key":[{"key":"x-API-key","value":"k"}],"user-agent":[{"key":"User-Agent","value":"curl"}]}}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	req := ev.Request
	if req.Header.Get("X-Api-Key") != "k" || req.HeaderKeys["X-Api-Key"] != "x-API-key" {
		t.Fatalf("header %v, keys %v", req.Header, req.HeaderKeys)
	}
	req.Header.Set("X-Added", "1")
	out, err := MarshalResult(edge.ViewerRequest, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"x-api-key": [`, `"key": "x-API-key"`, `"key": "User-Agent"`, `"x-added": [`, `"key": "X-Added"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("result lacks %s:\n%s", want, out)
		}
	}
}

// TestEmptyBodyRemoves: a response body "" in the event is a body set to
// empty (it removes the origin's body), written back as ""; no body field
// leaves the body unset.
func TestEmptyBodyRemoves(t *testing.T) {
	ev, err := Parse([]byte(`{"Records":[{"cf":{"config":{"eventType":"origin-response"},"request":{"uri":"/"},"response":{"status":"200","body":""}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Response.Body == nil || len(ev.Response.Body) != 0 {
		t.Fatalf("body = %#v, want set and empty", ev.Response.Body)
	}
	out, err := MarshalResult(edge.OriginResponse, ev.Request, ev.Response)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"body": ""`) {
		t.Errorf("result drops the emptied body:\n%s", out)
	}
	unset := &edge.Response{Status: 200}
	if out, _ := MarshalResult(edge.OriginResponse, ev.Request, unset); strings.Contains(string(out), `"body"`) {
		t.Errorf("an unset body is written:\n%s", out)
	}
}
