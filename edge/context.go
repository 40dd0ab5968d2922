package edge

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Info describes the invocation: which event, distribution, request, where
// it runs and which function version. Get it with InfoFrom.
type Info struct {
	EventType          EventType
	DistributionID     string
	DistributionDomain string
	RequestID          string
	Region             string
	PoP                string
	Node               string
	// Tier is where the function runs: "pop" (an edge location: the
	// viewer triggers) or "rec" (a regional edge cache: the origin
	// triggers, at whichever tier goes to the origin). Empty outside a node.
	Tier string
	// REC names the regional edge cache running the function (Tier
	// "rec"; Region is then the REC's region and PoP the edge location
	// the request came through). Empty at a PoP.
	REC             string
	FunctionName    string
	FunctionVersion int64
	// Deadline is when the invocation times out (zero: no deadline known).
	Deadline time.Time
}

// RemainingTime is the time left before the invocation times out, or 0 when
// no deadline is known.
func (i Info) RemainingTime() time.Duration {
	if i.Deadline.IsZero() {
		return 0
	}
	if d := time.Until(i.Deadline); d > 0 {
		return d
	}
	return 0
}

// Runtime is what the host gives a handler: a log sink and outbound HTTP.
// Implementations must be safe for concurrent use.
type Runtime interface {
	// Log records one function log line.
	Log(ctx context.Context, line string)
	// Fetch performs an outbound HTTP request; it must honour ctx's deadline.
	Fetch(ctx context.Context, req *http.Request) (*http.Response, error)
}

type ctxKey struct{}

type ctxValue struct {
	info Info
	rt   Runtime
}

// NewContext returns ctx carrying info and rt. The sandbox calls it for every
// invocation; tests call it to give a handler an Info and capture its logs.
// A nil rt discards logs and fetches with a plain http.Client.
func NewContext(ctx context.Context, info Info, rt Runtime) context.Context {
	return context.WithValue(ctx, ctxKey{}, &ctxValue{info: info, rt: rt})
}

// InfoFrom returns the invocation's Info, or the zero Info outside an invocation.
func InfoFrom(ctx context.Context) Info {
	if v, ok := ctx.Value(ctxKey{}).(*ctxValue); ok {
		i := v.info
		if dl, ok := ctx.Deadline(); ok && i.Deadline.IsZero() {
			i.Deadline = dl
		}
		return i
	}
	var i Info
	if dl, ok := ctx.Deadline(); ok {
		i.Deadline = dl
	}
	return i
}

func runtimeFrom(ctx context.Context) Runtime {
	if v, ok := ctx.Value(ctxKey{}).(*ctxValue); ok {
		return v.rt
	}
	return nil
}

// Log writes a function log line (fmt.Sprint of args). Lines ship to the
// regional log store of the node that ran the function.
func Log(ctx context.Context, args ...any) {
	if rt := runtimeFrom(ctx); rt != nil {
		rt.Log(ctx, fmt.Sprint(args...))
	}
}

// Logf writes a formatted function log line.
func Logf(ctx context.Context, format string, args ...any) {
	if rt := runtimeFrom(ctx); rt != nil {
		rt.Log(ctx, fmt.Sprintf(format, args...))
	}
}
