package access

import (
	"fmt"
	"slices"
	"strings"
)

// Role is what a principal may do.
type Role string

// The roles. Admin, Publisher, Operator and Viewer are given to tokens;
// Node only to edge-node certificates; Anyone marks a method open to
// unauthenticated callers (health checks, enrolment with a join token).
const (
	Admin     Role = "admin"
	Publisher Role = "publisher"
	Operator  Role = "operator"
	Viewer    Role = "viewer"
	Node      Role = "node"
	Anyone    Role = "anyone"
)

// TokenRoles are the roles a token may carry, most powerful first.
var TokenRoles = []Role{Admin, Publisher, Operator, Viewer}

// ParseRole reads a token role by name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(TokenRoles, r) {
		return r, nil
	}
	return "", fmt.Errorf("role %q is not one of admin, publisher, operator, viewer", s)
}

// Holds reports whether a principal with role have may call a method that
// needs role need.
func (have Role) Holds(need Role) bool {
	switch {
	case need == Anyone || have == need:
		return true
	case need == Node:
		return false // only node certificates open the stream
	case have == Admin:
		return true
	case need == Viewer:
		return have == Publisher || have == Operator
	}
	return false
}
