// Package access decides who may call what on the control plane's gRPC API.
//
// A caller is a Principal: a component named by its verified certificate
// (pki.Identity: an edge node, a control-plane replica) or a user holding a
// bearer token with a Role. One interceptor pair (Guard.Unary, Guard.Stream)
// authenticates every call, checks the Role the method needs (Policy), and
// writes every mutating call to an Auditor. Unauthenticated callers get
// codes.Unauthenticated; callers without the role get
// codes.PermissionDenied with a message naming the role that is missing.
//
// The roles nest: admin holds every role; publisher (functions,
// distributions, invalidations) and operator (chaos, nodes) each hold
// viewer (read only). Role node belongs to edge-node certificates alone and
// opens the replication stream; no token carries it.
//
// On the client side, Token is the grpc.PerRPCCredentials that sends a
// bearer token.
package access
