package controlplane

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/edgelab/edgelab/desired"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// DefaultMaxUpdateBytes bounds one replicated update (a snapshot of the whole
// desired state is the largest): the default of both the control plane's
// admission check and a node's reassembly limit (replica.Config.MaxUpdateBytes).
const DefaultMaxUpdateBytes = 256 << 20

// CheckDeliverable refuses a distribution that would make the desired state
// too large to replicate: its snapshot (every distribution and the function
// versions they use, with d in place of its namesake) would encode above
// MaxUpdateBytes. The error is ResourceExhausted and names both sizes.
func (r *Replicator) CheckDeliverable(d *edgelabv1.Distribution) error {
	size := r.hub.snapshotSizeWith(d)
	if size > r.cfg.MaxUpdateBytes {
		return status.Errorf(codes.ResourceExhausted,
			"distribution %q: the desired state with it would be %d bytes encoded, above the %d byte replication update limit",
			d.GetId(), size, r.cfg.MaxUpdateBytes)
	}
	return nil
}

// snapshotSizeWith is the encoded size of the snapshot's distributions and
// function versions if d replaced the distribution of its id.
func (h *hub) snapshotSizeWith(d *edgelabv1.Distribution) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	size := int64(proto.Size(d))
	refs := map[desired.Key]bool{}
	for _, k := range desired.Refs(d) {
		refs[k] = true
	}
	for id, other := range h.state.State().Distributions() {
		if id == d.GetId() {
			continue
		}
		size += int64(proto.Size(other))
		for _, k := range desired.Refs(other) {
			refs[k] = true
		}
	}
	for k := range refs {
		if v := h.state.Stored(k); v != nil {
			size += int64(proto.Size(v))
		}
	}
	return size
}
