package origin

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// HeaderRequestID is the request header whose value the origin records (the
// chaos load generator's unique id per viewer request).
const HeaderRequestID = "X-Edgelab-Chaos-Id"

// IDContentType marks a request body that is a chaos request id. Edges
// forward only the headers a cache policy names (as CloudFront does), but
// always the body of a POST or PUT, so the load generator sends the id
// there too.
const IDContentType = "text/x-edgelab-chaos-id"

// maxIDBody bounds a body read as a request id.
const maxIDBody = 256

// HeaderTime is the response header naming when the origin produced the
// response (RFC 3339 with nanoseconds); a cached copy keeps it.
const HeaderTime = "X-Origin-Time"

// DefaultMaxReceipts bounds the receipts an origin keeps.
const DefaultMaxReceipts = 200_000

// Receipt is one received request that carried HeaderRequestID.
type Receipt struct {
	ID     string    `json:"id"`
	Origin string    `json:"origin"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Time   time.Time `json:"time"`
}

// ReceiptLog is what GET /_admin/receipts returns.
type ReceiptLog struct {
	Receipts []Receipt `json:"receipts"`
	// Dropped counts receipts not kept because the log was full.
	Dropped int64 `json:"dropped"`
}

// receipts is a bounded, concurrency-safe log of receipts.
type receipts struct {
	mu      sync.Mutex
	max     int
	list    []Receipt
	dropped int64
}

// requestID returns the request's chaos id: the header, or a body of
// IDContentType (which is put back for the route to read).
func requestID(r *http.Request) string {
	if id := r.Header.Get(HeaderRequestID); id != "" {
		return id
	}
	if r.Body == nil || r.Header.Get("Content-Type") != IDContentType {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxIDBody+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), r.Body))
	if err != nil || len(b) > maxIDBody {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func (r *receipts) add(rc Receipt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.list) >= r.max {
		r.dropped++
		return
	}
	r.list = append(r.list, rc)
}

func (r *receipts) snapshot() ReceiptLog {
	r.mu.Lock()
	defer r.mu.Unlock()
	return ReceiptLog{Receipts: append([]Receipt{}, r.list...), Dropped: r.dropped}
}

func (r *receipts) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list, r.dropped = nil, 0
}
