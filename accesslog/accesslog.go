// Package accesslog writes CloudFront standard access logs: one line per
// viewer request, the 33 tab-separated fields of CloudFront's documented
// log file format in their order, after the "#Version" and "#Fields"
// header lines, so tools that read CloudFront logs (GoAccess's CLOUDFRONT
// format, Athena tables, ...) read them unchanged.
//
//	#Version: 1.0
//	#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status ...
//	2026-01-02	03:04:05	NRT	1536	192.0.2.1	GET	demo.edgelab.test	/objects/1024	200	...
//
// Empty values are written as "-"; the referer, user agent, query and
// cookie are URL-encoded as CloudFront does (a space as %20), so no value
// holds a tab or a newline.
package accesslog

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fields are the field names of the format, in order.
var Fields = [...]string{
	"date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)", "cs-uri-stem",
	"sc-status", "cs(Referer)", "cs(User-Agent)", "cs-uri-query", "cs(Cookie)", "x-edge-result-type",
	"x-edge-request-id", "x-host-header", "cs-protocol", "cs-bytes", "time-taken", "x-forwarded-for",
	"ssl-protocol", "ssl-cipher", "x-edge-response-result-type", "cs-protocol-version", "fle-status",
	"fle-encrypted-fields", "c-port", "time-to-first-byte", "x-edge-detailed-result-type",
	"sc-content-type", "sc-content-len", "sc-range-start", "sc-range-end",
}

// Entry is one viewer request. The zero value of a field is written "-".
type Entry struct {
	// Time is when the response was finished (written in UTC).
	Time time.Time
	// EdgeLocation is the PoP that served the request.
	EdgeLocation string
	// BytesSent is what went to the viewer, headers included.
	BytesSent  int64
	ClientIP   string
	ClientPort int
	Method     string
	// Host is the distribution's domain (cs(Host)); HostHeader the Host
	// header the viewer sent.
	Host, HostHeader string
	URIStem          string
	Status           int
	Referer          string
	UserAgent        string
	Query            string
	Cookie           string
	// ResultType is the X-Cache result (Hit, Miss, RefreshHit, Error,
	// LambdaExecutionError...); ResponseResultType what went to the
	// viewer; DetailedResultType the specific error, else ResultType.
	ResultType, ResponseResultType, DetailedResultType string
	RequestID                                          string
	// Protocol is "http" or "https"; ProtocolVersion e.g. "HTTP/1.1".
	Protocol, ProtocolVersion string
	// BytesReceived is the viewer's request, headers and body.
	BytesReceived int64
	// TimeTaken is from receiving the request to the last byte sent;
	// TimeToFirstByte to the first.
	TimeTaken, TimeToFirstByte time.Duration
	XForwardedFor              string
	ContentType                string
	// ContentLength is the response's Content-Length (-1: none).
	ContentLength int64
}

// Line renders e as one log line, without the newline.
func (e Entry) Line() string {
	t := e.Time.UTC()
	v := [len(Fields)]string{
		t.Format("2006-01-02"), t.Format("15:04:05"), dash(e.EdgeLocation), strconv.FormatInt(e.BytesSent, 10),
		dash(e.ClientIP), dash(e.Method), dash(e.Host), dash(e.URIStem),
		strconv.Itoa(e.Status), encoded(e.Referer), encoded(e.UserAgent), encoded(e.Query), encoded(e.Cookie),
		dash(e.ResultType), dash(e.RequestID), dash(e.HostHeader), dash(e.Protocol), strconv.FormatInt(e.BytesReceived, 10),
		seconds(e.TimeTaken), dash(e.XForwardedFor), "-", "-", dash(e.ResponseResultType), dash(e.ProtocolVersion), "-",
		"-", port(e.ClientPort), seconds(e.TimeToFirstByte), dash(e.DetailedResultType),
		dash(e.ContentType), contentLength(e.ContentLength), "-", "-",
	}
	return strings.Join(v[:], "\t")
}

// Header is the two header lines a log file starts with.
func Header() string {
	return "#Version: 1.0\n#Fields: " + strings.Join(Fields[:], " ") + "\n"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return fieldEscaper.Replace(s)
}

// fieldEscaper keeps separators out of the plain fields.
var fieldEscaper = strings.NewReplacer("\t", "%09", "\n", "%0A", "\r", "%0D", " ", "%20")

// encoded URL-encodes what CloudFront encodes in the free-text fields:
// spaces, tabs, line breaks, '%' itself and non-ASCII bytes.
func encoded(s string) string {
	if s == "" {
		return "-"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == '%' || c == '"' || c >= 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

func port(p int) string {
	if p <= 0 {
		return "-"
	}
	return strconv.Itoa(p)
}

func contentLength(n int64) string {
	if n < 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

// Writer writes entries to an io.Writer, the header lines first. Safe
// for concurrent use; a write error is kept and returned by Err (the
// request path never waits on it).
type Writer struct {
	mu     sync.Mutex
	w      io.Writer
	header bool
	err    error
}

// NewWriter returns a Writer on w. When w already holds a log (appending
// to an existing file), pass started so the header is not repeated.
func NewWriter(w io.Writer, started bool) *Writer { return &Writer{w: w, header: started} }

// Write writes one entry.
func (lw *Writer) Write(e Entry) {
	line := e.Line() + "\n"
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.err != nil {
		return
	}
	if !lw.header {
		lw.header = true
		line = Header() + line
	}
	if _, err := io.WriteString(lw.w, line); err != nil {
		lw.err = fmt.Errorf("writing access log: %w", err)
	}
}

// Err is the first write error (nil: none).
func (lw *Writer) Err() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.err
}

// OpenFile opens (or creates) a log file for appending and returns a
// Writer on it and the file to close when done; the header lines are
// written only into a new, empty file.
func OpenFile(path string) (*Writer, io.Closer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("opening access log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("opening access log: %w", err)
	}
	return NewWriter(f, st.Size() > 0), f, nil
}
