package origin

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestReceiptsRecordIDsOnArrival(t *testing.T) {
	s := start(t, "web")
	if err := s.SetFault(Fault{Path: "/echo", Outage: true}); err != nil {
		t.Fatal(err)
	}
	send := func(method, path, id string) *http.Response {
		req, err := http.NewRequest(method, s.URL()+path, strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		if id != "" {
			req.Header.Set(HeaderRequestID, id)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		return resp
	}
	before := time.Now()
	send("POST", "/echo/a", "p1") // dropped by the outage: still received
	if resp := send("PUT", "/api/x", "p2"); resp == nil || resp.Header.Get(HeaderTime) == "" {
		t.Fatalf("no %s on a content response", HeaderTime)
	}
	send("GET", "/", "") // no id: not recorded
	withBody, _ := http.NewRequest("POST", s.URL()+"/api/b", strings.NewReader("p3"))
	withBody.Header.Set("Content-Type", IDContentType)
	if resp, err := http.DefaultTransport.RoundTrip(withBody); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	echo, _ := http.NewRequest("POST", s.URL()+"/echo/c", strings.NewReader("p4"))
	echo.Header.Set("Content-Type", IDContentType)
	s.Heal("/echo", false)
	if resp, err := http.DefaultTransport.RoundTrip(echo); err != nil {
		t.Fatal(err)
	} else {
		var e Echo
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if e.Body != "p4" {
			t.Fatalf("the id body was not put back: %q", e.Body)
		}
	}
	send("POST", "/_admin/faults", "admin") // admin calls are not content
	log := s.Receipts()
	if len(log.Receipts) != 4 || log.Dropped != 0 || log.Receipts[2].ID != "p3" || log.Receipts[3].ID != "p4" {
		t.Fatalf("receipts %+v", log)
	}
	got := log.Receipts[0]
	if got.ID != "p1" || got.Method != "POST" || got.Path != "/echo/a" || got.Origin != "web" || got.Time.Before(before) {
		t.Fatalf("first receipt %+v", got)
	}
	resp, body, err := get(t, "GET", s.URL()+"/_admin/receipts", "")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET receipts: %v %v", resp, err)
	}
	var wire ReceiptLog
	if err := json.Unmarshal([]byte(body), &wire); err != nil || len(wire.Receipts) != 4 || wire.Receipts[1].ID != "p2" {
		t.Fatalf("wire receipts %q: %v", body, err)
	}
	if resp, _, err := get(t, "DELETE", s.URL()+"/_admin/receipts", ""); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE receipts: %v %v", resp, err)
	}
	if n := len(s.Receipts().Receipts); n != 0 {
		t.Fatalf("%d receipts after reset", n)
	}
}

func TestReceiptsBounded(t *testing.T) {
	s, err := New(Config{ID: "web", MaxReceipts: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for i := range 5 {
		req, _ := http.NewRequest("POST", s.URL()+"/echo", nil)
		req.Header.Set(HeaderRequestID, string(rune('a'+i)))
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if log := s.Receipts(); len(log.Receipts) != 3 || log.Dropped != 2 {
		t.Fatalf("bounded log %d kept, %d dropped", len(log.Receipts), log.Dropped)
	}
}
