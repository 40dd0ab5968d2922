package origin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// TestRequestLog: every content request is in GET /_admin/requests with
// its method, URI and Via, filtered by path prefix; admin requests are
// not; DELETE forgets them; the log keeps the most recent.
func TestRequestLog(t *testing.T) {
	s := start(t, "web")
	req, _ := http.NewRequest("GET", s.URL()+"/objects/64?x=1", nil)
	req.Header.Add("Via", "1.1 edge-a (edgelab)")
	req.Header.Add("Via", "1.1 rec-b (edgelab)")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, _, err := get(t, "GET", s.URL()+"/static/a.css", ""); err != nil {
		t.Fatal(err)
	}
	_, body, err := get(t, "GET", s.URL()+"/_admin/requests?path=/objects/", "")
	if err != nil {
		t.Fatal(err)
	}
	var log RequestLog
	if err := json.Unmarshal([]byte(body), &log); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if log.Count != 1 || len(log.Requests) != 1 || log.Requests[0].URI != "/objects/64?x=1" || log.Requests[0].Method != "GET" ||
		log.Requests[0].Via != "1.1 edge-a (edgelab), 1.1 rec-b (edgelab)" {
		t.Errorf("log for /objects/: %+v", log)
	}
	if all := s.Requests(""); all.Count != 2 {
		t.Errorf("whole log has %d requests, want 2 (admin requests not logged): %+v", all.Count, all)
	}
	if resp, _, err := get(t, "DELETE", s.URL()+"/_admin/requests", ""); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %v %v", resp, err)
	}
	if n := s.Requests("").Count; n != 0 {
		t.Errorf("%d requests after DELETE", n)
	}

	l := &requestLog{max: 3}
	for i := range 5 {
		l.add(RequestRecord{URI: fmt.Sprintf("/%d", i)})
	}
	if got := l.snapshot(""); got.Count != 3 || got.Requests[0].URI != "/2" || got.Requests[2].URI != "/4" {
		t.Errorf("bounded log kept %+v, want the last three", got)
	}
}
