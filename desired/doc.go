// Package desired is the desired state that replication carries, shared by
// the control plane (which builds it from etcd) and the edge node (which
// applies it): the distributions and the function versions they reference,
// at one revision. The proto types of edgelab/v1 stay the wire form;
// this package converts at the boundary (FromSnapshot, Snapshot, ApplyDelta,
// Changes) and gives both sides one key scheme (Key) and one notion of what
// a revision changed (Changed).
//
//	control plane                               edge node
//	etcd events -> Builder.Put*/Delete*         Delta -> State.ApplyDelta -> Changed
//	            -> Builder.Commit(rev) -> Delta         -> compile / persist only Changed
//	            -> Builder.Snapshot()  -> Snapshot -> FromSnapshot, Diff(old, new)
//
// A State is not safe for concurrent use; its owner serialises access. The
// protos it holds are shared, never copied and never modified: a caller must
// not modify a proto after handing it over, nor one it reads back.
package desired
