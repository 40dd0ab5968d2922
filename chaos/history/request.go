package history

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Response headers the edge and the gateway set, read into a Request.
const (
	HeaderCache = "X-Cache"
	HeaderNode  = "X-Edgelab-Node"
	HeaderPop   = "X-Edgelab-Pop"
	// HeaderRec names the regional edge cache that answered the PoP's miss
	// (absent on a PoP hit, or when the PoP went to the origin itself).
	HeaderRec         = "X-Edgelab-Rec"
	HeaderFunctions   = "X-Edgelab-Functions"
	HeaderRequestID   = "X-Edgelab-Request-Id"
	HeaderGatewayEdge = "X-Edgelab-Gateway-Edge"
	// HeaderGatewayAttempts is the number of edges the gateway tried for one
	// request, when the gateway reports it (absent means unknown).
	HeaderGatewayAttempts = "X-Edgelab-Gateway-Attempts"
	// HeaderViewerRegion names the viewer's region on a request to the gateway.
	HeaderViewerRegion = "X-Viewer-Region"
)

// maxFunctionsHeader bounds the X-Edgelab-Functions value ParseFunctions accepts.
const maxFunctionsHeader = 4096

// FunctionRun is one function that ran for a request: the event it ran at and
// the version that ran.
type FunctionRun struct {
	Event    string `json:"event"`
	Function string `json:"function"`
	Version  int64  `json:"version"`
}

// Request is what one viewer request saw. Start and End bracket the request
// as the client measured it; Err is set (and Status is 0) on a transport error.
type Request struct {
	// ID is the unique id sent as X-Edgelab-Chaos-Id ("" when none was sent).
	ID           string    `json:"id,omitempty"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
	Method       string    `json:"method"`
	Path         string    `json:"path"`
	ViewerRegion string    `json:"viewerRegion"`
	Status       int       `json:"status,omitempty"`
	XCache       string    `json:"xCache,omitempty"`
	Node         string    `json:"node,omitempty"`
	Pop          string    `json:"pop,omitempty"`
	// Rec is the X-Edgelab-Rec the response carried: the REC that answered
	// the PoP's miss ("" when none did).
	Rec       string        `json:"rec,omitempty"`
	Functions []FunctionRun `json:"functions,omitempty"`
	// FunctionsErr is set when X-Edgelab-Functions was present but malformed.
	FunctionsErr string `json:"functionsErr,omitempty"`
	Err          string `json:"err,omitempty"`
	GatewayEdge  string `json:"gatewayEdge,omitempty"`
	// Attempts is how many edges the gateway tried (0 = not reported).
	Attempts int `json:"attempts,omitempty"`
	// OriginTime is the response's X-Origin-Time: when the origin produced
	// the object (zero when absent or malformed).
	OriginTime time.Time `json:"originTime,omitzero"`
}

// Idempotent reports whether the method may be sent more than once.
func (r Request) Idempotent() bool {
	switch r.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

// Failed reports whether the request failed at transport level or got a 5xx.
func (r Request) Failed() bool { return r.Err != "" || r.Status >= 500 }

// ServedBy is the edge that served the request: X-Edgelab-Node, or the
// gateway's X-Edgelab-Gateway-Edge when the node header is missing.
func (r Request) ServedBy() string {
	if r.Node != "" {
		return r.Node
	}
	return r.GatewayEdge
}

// CacheResult is the first word of X-Cache ("Hit", "Miss", "Error",
// "LambdaExecutionError", ...), or "" when absent.
func (r Request) CacheResult() string {
	word, _, _ := strings.Cut(strings.TrimSpace(r.XCache), " ")
	return word
}

// IsFunctionError reports whether the edge answered with a Lambda error
// (validation, execution or limit), i.e. a function failed, not the path.
func (r Request) IsFunctionError() bool {
	switch r.CacheResult() {
	case "LambdaValidationError", "LambdaExecutionError", "LambdaLimitExceeded":
		return true
	}
	return false
}

// IsOriginError reports whether the edge passed an origin error through
// (X-Cache: Error from edgelab).
func (r Request) IsOriginError() bool { return r.CacheResult() == "Error" }

// FillFromResponse copies status and the edgelab headers of resp into r.
func (r *Request) FillFromResponse(status int, h http.Header) {
	r.Status = status
	r.XCache = h.Get(HeaderCache)
	r.Node = h.Get(HeaderNode)
	r.Pop = h.Get(HeaderPop)
	r.Rec = h.Get(HeaderRec)
	r.GatewayEdge = h.Get(HeaderGatewayEdge)
	if a := h.Get(HeaderGatewayAttempts); a != "" {
		if n, err := strconv.Atoi(a); err == nil && n >= 0 {
			r.Attempts = n
		}
	}
	if ot := h.Get(HeaderOriginTime); ot != "" {
		if t, err := time.Parse(time.RFC3339Nano, ot); err == nil {
			r.OriginTime = t
		}
	}
	if f := h.Get(HeaderFunctions); f != "" {
		runs, err := ParseFunctions(f)
		if err != nil {
			r.FunctionsErr = err.Error()
		}
		r.Functions = runs
	}
}

// ParseFunctions parses an X-Edgelab-Functions value such as
// "viewer-request=auth:3, origin-response=headers:1". It returns the runs it
// could parse, sorted by event then function, and an error naming the first
// malformed entry.
func ParseFunctions(v string) ([]FunctionRun, error) {
	if len(v) > maxFunctionsHeader {
		return nil, fmt.Errorf("functions header: %d bytes exceeds %d", len(v), maxFunctionsHeader)
	}
	var runs []FunctionRun
	var firstErr error
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		run, err := parseRun(part)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		runs = append(runs, run)
	}
	sort.Slice(runs, func(i, j int) bool {
		if runs[i].Event != runs[j].Event {
			return runs[i].Event < runs[j].Event
		}
		return runs[i].Function < runs[j].Function
	})
	return runs, firstErr
}

func parseRun(part string) (FunctionRun, error) {
	event, ref, ok := strings.Cut(part, "=")
	if !ok {
		return FunctionRun{}, fmt.Errorf("functions header entry %q: want event=function:version", part)
	}
	name, ver, ok := strings.Cut(ref, ":")
	event, name, ver = strings.TrimSpace(event), strings.TrimSpace(name), strings.TrimSpace(ver)
	if !ok || event == "" || name == "" {
		return FunctionRun{}, fmt.Errorf("functions header entry %q: want event=function:version", part)
	}
	n, err := strconv.ParseInt(ver, 10, 64)
	if err != nil || n <= 0 {
		return FunctionRun{}, fmt.Errorf("functions header entry %q: version %q is not a positive integer", part, ver)
	}
	return FunctionRun{Event: event, Function: name, Version: n}, nil
}
