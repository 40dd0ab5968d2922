package store

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers branch with errors.Is; the control plane maps them
// to gRPC codes in one place.
var (
	// ErrNotFound: the function, version, distribution or invalidation does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: a create found the key already present.
	ErrExists = errors.New("already exists")
	// ErrReferenced: a delete was refused because a distribution references
	// the version. The concrete error is *ReferencedError.
	ErrReferenced = errors.New("referenced by a distribution")
	// ErrConflict: an optimistic transaction lost too many races in a row.
	ErrConflict = errors.New("too many concurrent modifications, retry")
	// ErrMissingVersion: a distribution references a version that does not
	// exist (checked inside the apply transaction). The concrete error is
	// *MissingVersionError.
	ErrMissingVersion = errors.New("function version does not exist")
	// ErrNoDraft: publish was asked for a function whose draft has no files.
	ErrNoDraft = errors.New("function has no code to publish")
)

// ReferencedError names the distribution and behavior that reference a
// function version, so that the user knows what to change before deleting.
type ReferencedError struct {
	Function     string
	Version      int64
	Distribution string
	// Behavior is the referencing behavior's path pattern.
	Behavior string
	// EventType is the association's event type, e.g. "viewer-request".
	EventType string
}

// Error implements error.
func (e *ReferencedError) Error() string {
	return fmt.Sprintf("function %s version %d is referenced by distribution %q (behavior %q, %s); remove the association first",
		e.Function, e.Version, e.Distribution, e.Behavior, e.EventType)
}

// Is makes errors.Is(err, ErrReferenced) true.
func (e *ReferencedError) Is(target error) bool { return target == ErrReferenced }

// MissingVersionError names a version a distribution references that does
// not exist at apply time.
type MissingVersionError struct {
	Function string
	Version  int64
}

// Error implements error.
func (e *MissingVersionError) Error() string {
	return fmt.Sprintf("function %q version %d does not exist", e.Function, e.Version)
}

// Is makes errors.Is(err, ErrMissingVersion) true.
func (e *MissingVersionError) Is(target error) bool { return target == ErrMissingVersion }

// DomainConflictError: a distribution names a domain another distribution
// already serves (CloudFront's CNAMEAlreadyExists). It matches ErrExists.
type DomainConflictError struct {
	Domain       string
	Distribution string
}

// Error implements error.
func (e *DomainConflictError) Error() string {
	return fmt.Sprintf("domain %q is already served by distribution %q", e.Domain, e.Distribution)
}

// Is makes errors.Is(err, ErrExists) true.
func (e *DomainConflictError) Is(target error) bool { return target == ErrExists }
