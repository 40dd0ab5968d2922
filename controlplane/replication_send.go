package controlplane

import (
	"fmt"
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/desired"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// Message bounds on the replication stream. A node announces the largest
// message it accepts in Hello.max_message_bytes; an update above it is sent
// in Chunks of at most that size.
const (
	// DefaultNodeMessageBytes is the limit of a node whose Hello names none:
	// gRPC's default receive limit.
	DefaultNodeMessageBytes = 4 << 20
	// MinNodeMessageBytes is the smallest limit a node may announce.
	MinNodeMessageBytes = 64 << 10
	// maxNodeMessageBytes caps what the control plane sends in one message
	// whatever the node announces.
	maxNodeMessageBytes = 64 << 20
	// chunkOverhead is room for a Chunk's own fields and framing around its data.
	chunkOverhead = 256
)

// messageLimit is the largest message to send to a node that announced n.
func messageLimit(n int64) (int, error) {
	switch {
	case n == 0:
		return DefaultNodeMessageBytes, nil
	case n < MinNodeMessageBytes:
		return 0, fmt.Errorf("max_message_bytes %d below the minimum %d", n, MinNodeMessageBytes)
	default:
		return int(min(n, maxNodeMessageBytes)), nil
	}
}

// updateSender is the sending half of a replication stream.
type updateSender interface {
	Send(*edgelabv1.StreamResponse) error
}

// sendUpdate sends msg whole when it fits in limit bytes, else as Chunks of
// its encoding, back to back, none above limit.
func sendUpdate(s updateSender, msg *edgelabv1.StreamResponse, rev int64, limit int) error {
	if proto.Size(msg) <= limit {
		return s.Send(msg)
	}
	data, err := proto.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encoding revision %d: %w", rev, err)
	}
	piece := limit - chunkOverhead
	for off := 0; off < len(data); off += piece {
		end := min(off+piece, len(data))
		c := &edgelabv1.Chunk{Revision: rev, TotalBytes: int64(len(data)), Offset: int64(off), Data: data[off:end], Last: end == len(data)}
		if err := s.Send(&edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Chunk{Chunk: c}}); err != nil {
			return err
		}
	}
	return nil
}

// coalesce folds consecutive deltas into one from the first's PrevRevision
// to the last's Revision: the last change of each distribution and function
// version wins (a put later deleted is sent as the delete only), every
// invalidation is kept in order. Function changes come first, then
// distributions, then invalidations, as in the hub's deltas.
func coalesce(deltas []*edgelabv1.Delta) *edgelabv1.Delta {
	last := deltas[len(deltas)-1]
	fns := map[string]*edgelabv1.Change{}
	dists := map[string]*edgelabv1.Change{}
	var invs []*edgelabv1.Change
	for _, d := range deltas {
		for _, ch := range d.Changes {
			switch x := ch.Change.(type) {
			case *edgelabv1.Change_PutDistribution:
				dists[x.PutDistribution.GetId()] = ch
			case *edgelabv1.Change_DeleteDistribution:
				dists[x.DeleteDistribution] = ch
			case *edgelabv1.Change_PutFunction:
				fns[desired.KeyOf(x.PutFunction).String()] = ch
			case *edgelabv1.Change_DeleteFunction:
				fns[desired.RefKey(x.DeleteFunction).String()] = ch
			case *edgelabv1.Change_Invalidation:
				invs = append(invs, ch)
			}
		}
	}
	changes := append(append(sortedChanges(fns), sortedChanges(dists)...), invs...)
	return &edgelabv1.Delta{Revision: last.Revision, PrevRevision: deltas[0].PrevRevision, Changes: changes, Created: last.Created, ServerId: last.ServerId}
}

func sortedChanges(m map[string]*edgelabv1.Change) []*edgelabv1.Change {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*edgelabv1.Change, 0, len(keys))
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}
