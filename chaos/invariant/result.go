package invariant

import (
	"fmt"
	"time"
)

// Names of the invariants, as scenario files spell them.
const (
	NameNoLostRequests = "no-lost-requests"
	NameConverge       = "converge"
	NameMonotonic      = "monotonic-versions"
	NameDurableAcks    = "durable-acks"
	NameMixedVersions  = "mixed-versions"
	NameSingleVersion  = "single-version"
	// NameFresh: no Hit of an object fetched before an invalidation the node applied.
	NameFresh = "fresh-after-invalidation"
	// NameAckDurable: a node restarts at a revision >= the last one it acked.
	NameAckDurable = "ack-implies-durable"
	// NameFailoverBound: a dead edge leaves rotation within a bound, with bounded retries.
	NameFailoverBound = "failover-bound"
	// NameAtMostOnce: a non-idempotent request reaches the origin at most once.
	NameAtMostOnce = "at-most-once"
	// NameNackedNeverServed: a version the nodes NACK is never served.
	NameNackedNeverServed = "nacked-never-served"
	// NameRECFailover: PoPs move to another regional edge cache while theirs is down.
	NameRECFailover = "rec-failover"
	// NameRECSlowed: a REC's injected tier latency shows in the answers it gave.
	NameRECSlowed = "rec-slowed"
)

// maxDetails bounds how many violation lines a Result keeps; Violations
// still counts them all.
const maxDetails = 20

// Result is one invariant's verdict.
type Result struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	// Checked is how many items (requests, nodes, acks) were examined.
	Checked int `json:"checked"`
	// Violations counts every violation; Details keeps the first few.
	Violations int      `json:"violations"`
	Details    []string `json:"details,omitempty"`
	// Marks are the moments of the violations that have one (the first
	// few), for the report's timeline.
	Marks []time.Time `json:"marks,omitempty"`
}

func newResult(name string) Result { return Result{Name: name, Passed: true} }

func (r *Result) violate(format string, args ...any) {
	r.Passed = false
	r.Violations++
	if len(r.Details) < maxDetails {
		r.Details = append(r.Details, fmt.Sprintf(format, args...))
	}
}

// violateAt records a violation that happened at t.
func (r *Result) violateAt(t time.Time, format string, args ...any) {
	r.violate(format, args...)
	if len(r.Marks) < maxDetails {
		r.Marks = append(r.Marks, t)
	}
}

// note adds an explanatory detail without failing the result.
func (r *Result) note(format string, args ...any) {
	if len(r.Details) < maxDetails {
		r.Details = append(r.Details, fmt.Sprintf(format, args...))
	}
}
