// Package pki is the lab's certificate authority: one ECDSA P-256 CA kept in
// a directory (created on first use, reused after), short-lived leaf
// certificates for every component, and the identity each certificate
// carries as a SPIFFE-style URI SAN:
//
//	spiffe://edgelab/node/<region>/<id>     an edge node (or a regional cache)
//	spiffe://edgelab/controlplane/<id>      a control-plane replica
//	spiffe://edgelab/user/<name>            a person or tool (edgectl, gateway, chaos)
//	spiffe://edgelab/etcd/<name>            an etcd member
//
// A peer's identity is read from its verified certificate (IdentityOf),
// never from what it says about itself. Leaves are renewed before they
// expire by a Source, which a tls.Config asks for the current certificate
// on every handshake, so a long-running process never restarts for it.
//
//	ca, _ := pki.LoadOrCreateCA(dir)
//	id := pki.Identity{Kind: pki.KindNode, Region: "eu-west-1", Name: "edge-1"}
//	src := pki.NewSource(ca, pki.Leaf{Identity: id, Lifetime: time.Hour, DNSNames: []string{"localhost"}})
//	server := pki.ServerTLS(ca.Pool(), src)   // mTLS: client certificate required
//	client := pki.ClientTLS(ca.Pool(), src, "localhost")
//
// Only the standard library's crypto/x509, crypto/ecdsa and crypto/tls are
// used.
package pki
