package sandbox

// This file is the package's public contract; the implementation lives in
// the other files. (Written first so the edge node, the control plane and
// the sandbox can be built in parallel.)

import (
	"context"
	"time"

	"github.com/edgelab/edgelab/edge"
	"github.com/edgelab/edgelab/egress"
)

// Outcome classifies an invocation the way CloudFront reports it.
type Outcome string

// Outcomes. The X-Cache value for an error outcome is string(outcome)+" from edgelab".
const (
	// OutcomeContinue: a request trigger returned no response (continue), or
	// a response trigger returned nil.
	OutcomeContinue Outcome = "continue"
	// OutcomeGenerated: a request trigger returned a response.
	OutcomeGenerated Outcome = "generated"
	// OutcomeValidationError: the result broke a rule (bad status, read-only
	// or disallowed header, oversized body or response, 204 with body...). 502.
	OutcomeValidationError Outcome = "LambdaValidationError"
	// OutcomeExecutionError: error returned, panic, timeout, crash, memory limit. 503.
	OutcomeExecutionError Outcome = "LambdaExecutionError"
	// OutcomeLimitExceeded: concurrency limit reached. 503.
	OutcomeLimitExceeded Outcome = "LambdaLimitExceeded"
)

// Code is one function version to load.
type Code struct {
	Name    string
	Version int64
	// Files maps base file name to Go source.
	Files map[string][]byte
	// SHA256 of the files (hex), used as the cache identity.
	SHA256 string
	// MemoryMB is the function's memory limit (0 = profile default).
	MemoryMB int
	// Timeout overrides the event type's timeout when non-zero and smaller.
	Timeout time.Duration
}

// Limits is a per-event-type limit profile (reference section 3).
type Limits struct {
	Timeout time.Duration
	// MemoryMB is the default memory limit when the function sets none.
	MemoryMB int
	// MaxGeneratedBytes bounds a generated response (headers + body).
	MaxGeneratedBytes int
	// MaxBodyBytes bounds the include-body exposure (truncated beyond).
	MaxBodyBytes int
}

// Profile gives the limits for each event type.
type Profile struct {
	Viewer Limits
	Origin Limits
}

// DefaultProfile returns the classic Lambda@Edge limits:
// viewer 5 s / 128 MB / 40 KB / 40 KB, origin 30 s / 128 MB default / 1 MB / 1 MB.
func DefaultProfile() Profile {
	return Profile{
		Viewer: Limits{Timeout: 5 * time.Second, MemoryMB: 128, MaxGeneratedBytes: 40 << 10, MaxBodyBytes: 40 << 10},
		Origin: Limits{Timeout: 30 * time.Second, MemoryMB: 128, MaxGeneratedBytes: 1 << 20, MaxBodyBytes: 1 << 20},
	}
}

// For returns the limits for an event type.
func (p Profile) For(e edge.EventType) Limits {
	if e.IsViewer() {
		return p.Viewer
	}
	return p.Origin
}

// Invocation is one trigger run.
type Invocation struct {
	Function string
	Version  int64
	Event    edge.EventType
	// Request is the event's request; the sandbox never mutates the caller's copy.
	Request *edge.Request
	// Response is set for response events.
	Response *edge.Response
	// Info is passed to the handler (edge.InfoFrom); EventType, function name
	// and version are filled in by the sandbox.
	Info edge.Info
	// Egress is where the handler's edge.Fetch calls may connect (the
	// distribution's origins and egress rules). Nil: public addresses only.
	Egress *egress.Policy
	// FetchLatency is the modelled round trip each of the handler's
	// edge.Fetch calls waits before it is sent (package latency). Zero:
	// none.
	FetchLatency FetchLatency
}

// Result is the outcome of one invocation.
type Result struct {
	Outcome Outcome
	// Err explains an error outcome (validation detail, panic text, "timeout after 5s").
	Err error
	// Request is the (possibly modified) request for request events.
	Request *edge.Request
	// Response is the generated response (request events) or the modified
	// response (response events).
	Response *edge.Response
	Duration time.Duration
	// Cold is true when a new worker or interpreter had to be started.
	Cold bool
	Logs []LogLine
}

// LogLine is one edge.Log line from a handler.
type LogLine struct {
	Time    time.Time
	Message string
}

// Runner runs function versions. Implementations are safe for concurrent use.
// The edge node depends on this interface, not on *Manager.
type Runner interface {
	// Load makes a version ready (compiles it in a worker). It is idempotent.
	Load(ctx context.Context, code Code) error
	// Unload drops a version and stops its worker.
	Unload(name string, version int64)
	// Invoke runs one trigger; errors of the function are reported in
	// Result.Outcome, not as the returned error, which is only for misuse
	// (version not loaded, manager closed). Invoke never modifies
	// inv.Request or inv.Response (nor their headers): the result carries
	// new values, so callers may share the invocation's request.
	Invoke(ctx context.Context, inv Invocation) (Result, error)
}
