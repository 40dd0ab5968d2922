package accesslog

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// documentedFields is CloudFront's standard log file field list, in order,
// as the CloudFront Developer Guide ("Log file fields") numbers it.
var documentedFields = strings.Fields(`date time x-edge-location sc-bytes c-ip cs-method cs(Host)
cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type
x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol
ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port
time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start
sc-range-end`)

// parseLog reads a CloudFront log file the way a log tool does: the
// #Fields line names the columns, every other line is tab-separated values.
func parseLog(t *testing.T, data []byte) []map[string]string {
	t.Helper()
	var names []string
	var out []map[string]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if f, ok := strings.CutPrefix(line, "#Fields: "); ok {
			names = strings.Split(f, " ")
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		vals := strings.Split(line, "\t")
		if len(vals) != len(names) {
			t.Fatalf("line has %d fields, #Fields names %d: %q", len(vals), len(names), line)
		}
		m := map[string]string{}
		for i, n := range names {
			m[n] = vals[i]
		}
		out = append(out, m)
	}
	return out
}

func TestFieldsAreTheDocumentedOnes(t *testing.T) {
	if len(Fields) != 33 || fmt.Sprint(Fields[:]) != fmt.Sprint(documentedFields) {
		t.Fatalf("Fields = %v\nwant %v", Fields, documentedFields)
	}
}

func TestWriterLines(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, false)
	e := Entry{
		Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), EdgeLocation: "NRT", BytesSent: 1024,
		ClientIP: "192.0.2.1", Method: "GET", Host: "demo.edgelab.test", HostHeader: "demo.edgelab.test",
		URIStem: "/objects/1024", Status: 200, UserAgent: "curl/8.0 (x86_64)", Query: "a=b c",
		ResultType: "Hit", ResponseResultType: "Hit", DetailedResultType: "Hit", RequestID: "rid-1",
		Protocol: "http", ProtocolVersion: "HTTP/1.1", BytesReceived: 80, TimeTaken: 1500 * time.Microsecond,
		TimeToFirstByte: time.Millisecond, ContentType: "text/plain", ContentLength: -1,
	}
	w.Write(e)
	e.Status, e.ResultType, e.URIStem = 503, "LambdaExecutionError", "/api/x"
	w.Write(e)
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "#Version: 1.0\n#Fields: date time x-edge-location ") || strings.Count(buf.String(), "#Version") != 1 {
		t.Fatalf("header: %q", buf.String())
	}
	rows := parseLog(t, buf.Bytes())
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	want := map[string]string{
		"date": "2026-01-02", "time": "02:04:05", "x-edge-location": "NRT", "sc-bytes": "1024", "c-ip": "192.0.2.1",
		"cs-method": "GET", "cs(Host)": "demo.edgelab.test", "cs-uri-stem": "/objects/1024", "sc-status": "200",
		"cs(Referer)": "-", "cs(User-Agent)": "curl/8.0%20(x86_64)", "cs-uri-query": "a=b%20c", "cs(Cookie)": "-",
		"x-edge-result-type": "Hit", "x-edge-request-id": "rid-1", "cs-protocol": "http", "cs-bytes": "80",
		"time-taken": "0.002", "time-to-first-byte": "0.001", "sc-content-len": "-", "c-port": "-",
	}
	for k, v := range want {
		if rows[0][k] != v {
			t.Errorf("%s = %q, want %q", k, rows[0][k], v)
		}
	}
	if rows[1]["sc-status"] != "503" || rows[1]["x-edge-result-type"] != "LambdaExecutionError" {
		t.Errorf("second row: %v", rows[1])
	}
}

// TestHostileValuesStayInTheirField: tabs and newlines a viewer sends
// cannot add fields or lines.
func TestHostileValuesStayInTheirField(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, true)
	w.Write(Entry{UserAgent: "a\tb\nc", Cookie: "x=1\t2", URIStem: "/a\tb", Referer: "r\r\n", ContentLength: 5})
	rows := parseLog(t, []byte(Header()+buf.String()))
	if len(rows) != 1 || rows[0]["cs(User-Agent)"] != "a%09b%0Ac" || rows[0]["cs-uri-stem"] != "/a%09b" || rows[0]["sc-content-len"] != "5" {
		t.Fatalf("rows = %v", rows)
	}
}
