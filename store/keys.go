// Package store is edgelab's durable state in etcd: the key layout and typed
// access for functions, versions, distributions, invalidations, nodes, faults
// and logs. All values are protobuf-encoded edgelabv1 messages.
package store

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultPrefix is the key prefix used when none is configured.
const DefaultPrefix = "/edgelab/"

// Keys builds etcd keys under one prefix. The zero value is not usable; use NewKeys.
type Keys struct {
	prefix string
}

// NewKeys returns the key layout under prefix ("" means DefaultPrefix).
func NewKeys(prefix string) Keys {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return Keys{prefix: prefix}
}

// Prefix is the root of every edgelab key.
func (k Keys) Prefix() string { return k.prefix }

// State is the prefix of the replicated desired state (one watch sees it all).
func (k Keys) State() string { return k.prefix + "state/" }

// Distributions is the prefix of all distributions.
func (k Keys) Distributions() string { return k.State() + "distributions/" }

// Distribution is the key of one distribution.
func (k Keys) Distribution(id string) string { return k.Distributions() + id }

// Versions is the prefix of all published function versions.
func (k Keys) Versions() string { return k.State() + "versions/" }

// FunctionVersions is the prefix of one function's versions.
func (k Keys) FunctionVersions(name string) string { return k.Versions() + name + "/" }

// Version is the key of one published version; the number is zero-padded so
// keys sort numerically.
func (k Keys) Version(name string, version int64) string {
	return fmt.Sprintf("%s%010d", k.FunctionVersions(name), version)
}

// Invalidations is the prefix of all invalidations.
func (k Keys) Invalidations() string { return k.State() + "invalidations/" }

// Invalidation is the key of one invalidation.
func (k Keys) Invalidation(distribution, id string) string {
	return k.Invalidations() + distribution + "/" + id
}

// Functions is the prefix of function drafts.
func (k Keys) Functions() string { return k.prefix + "functions/" }

// Function is the key of one function's draft record.
func (k Keys) Function(name string) string { return k.Functions() + name }

// Nodes is the prefix of edge node records (leased).
func (k Keys) Nodes() string { return k.prefix + "nodes/" }

// Node is the key of one node record.
func (k Keys) Node(id string) string { return k.Nodes() + id }

// Faults is the prefix of chaos faults.
func (k Keys) Faults() string { return k.prefix + "faults/" }

// Fault is the key of one fault.
func (k Keys) Fault(id string) string { return k.Faults() + id }

// Logs is the prefix of function logs.
func (k Keys) Logs() string { return k.prefix + "logs/" }

// Log is the key of one log line.
func (k Keys) Log(region, function string, unixNano int64, node string) string {
	return fmt.Sprintf("%s%s/%s/%020d-%s", k.Logs(), region, function, unixNano, node)
}

// ParseVersionKey splits a key under Versions() into function name and version.
func (k Keys) ParseVersionKey(key string) (name string, version int64, ok bool) {
	rest, found := strings.CutPrefix(key, k.Versions())
	if !found {
		return "", 0, false
	}
	name, num, found := strings.Cut(rest, "/")
	if !found {
		return "", 0, false
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return "", 0, false
	}
	return name, v, true
}

// Tokens is the prefix of API tokens, keyed by the hex SHA-256 of the
// secret (the secret itself is never stored).
func (k Keys) Tokens() string { return k.prefix + "access/tokens/" }

// Token is the key of the token whose secret hashes to hash.
func (k Keys) Token(hash string) string { return k.Tokens() + hash }

// RemovedNodes is the prefix of removed nodes: a node's certificates issued
// before its removal are refused.
func (k Keys) RemovedNodes() string { return k.prefix + "access/removed-nodes/" }

// RemovedNode is the removal record of node id.
func (k Keys) RemovedNode(id string) string { return k.RemovedNodes() + id }

// Audit is the prefix of the audit log; entries sort by time.
func (k Keys) Audit() string { return k.prefix + "audit/" }

// AuditEntry is the key of one audit entry written at unixNano by replica.
func (k Keys) AuditEntry(unixNano int64, replica string) string {
	return fmt.Sprintf("%s%020d-%s", k.Audit(), unixNano, replica)
}
