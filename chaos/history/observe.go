package history

import (
	"time"

	"github.com/edgelab/edgelab/origin"
)

// HeaderChaosID carries the unique id the load generator gives every
// request; the sample origin records the ids it receives (Receipt), so a
// checker can count how often one viewer request reached the origin.
const HeaderChaosID = origin.HeaderRequestID

// HeaderOriginTime is the time (RFC 3339, nanoseconds) the sample origin
// produced a response. A cached copy keeps it, so a Hit tells when the object
// it serves was fetched.
const HeaderOriginTime = origin.HeaderTime

// Receipt is one request an origin received that carried a chaos id.
type Receipt = origin.Receipt

// Invalidation is one invalidation the control plane acknowledged: the
// paths (CloudFront patterns) of a distribution, at an etcd revision.
type Invalidation struct {
	Distribution string    `json:"distribution"`
	Paths        []string  `json:"paths"`
	Revision     int64     `json:"revision"`
	Time         time.Time `json:"time"`
}

// Session is one replication session of a node as the control plane saw it:
// when the node (re)connected and the revision it said it had (its hello, or
// the first revision observed in the session).
type Session struct {
	Since    time.Time `json:"since"`
	Revision int64     `json:"revision"`
	// Observed is when the session was first seen.
	Observed time.Time `json:"observed"`
}

// Broken is a function version published to fail on the nodes (it passes
// the control plane's checks and fails when a node loads it), and the
// revisions during which a distribution associated it.
type Broken struct {
	Function string `json:"function"`
	Version  int64  `json:"version"`
	// Windows are revision ranges [From, To) in which a distribution
	// referenced the version (To = 0: until the end of the run).
	Windows []RevisionRange `json:"windows,omitempty"`
}

// RevisionRange is a half-open range of revisions [From, To); To 0 means
// unbounded.
type RevisionRange struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// Contains reports whether rev is in the range.
func (r RevisionRange) Contains(rev int64) bool {
	return rev >= r.From && (r.To == 0 || rev < r.To)
}

// EdgeHealth is one sample of the gateway's view of an edge.
type EdgeHealth struct {
	Time    time.Time `json:"time"`
	Edge    string    `json:"edge"`
	Healthy bool      `json:"healthy"`
}

// GatewaySample is one poll of the gateway: every edge's health and the
// running total of retries (requests sent to another edge after one failed).
type GatewaySample struct {
	Time    time.Time       `json:"time"`
	Healthy map[string]bool `json:"healthy"`
	// Retries is -1 when the gateway exports no metrics.
	Retries int64 `json:"retries"`
}
