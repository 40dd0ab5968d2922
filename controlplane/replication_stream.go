package controlplane

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/controlplane/replication/pacing"
	"github.com/edgelab/edgelab/internal/recvloop"
	"github.com/edgelab/edgelab/internal/rng"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// The stream protocol, one goroutine per node (Stream's):
//
//	handshake: Hello -> checks -> attach (node record) -> FaultUpdate
//	loop:      read faults -> catch up (snapshot or deltas, into the pacing
//	           queue) -> send what is due (faults decide copies; large
//	           updates go in Chunks, see replication_send.go) -> wait for the
//	           next of: hub change, queue timer, fault change, node message
//	           (Ack/NACK, Heartbeat, LogBatch), ping tick, end.
//
// Pacing lives in package pacing, the faults in package fault; this file
// only sequences them.

// Stream serves one node: Hello, then snapshot/deltas paced by the delay
// model, while recording acks, heartbeats and logs. One goroutine (this one)
// sends; a helper goroutine receives and exits when the stream ends.
func (r *Replicator) Stream(stream edgelabv1.ReplicationService_StreamServer) error {
	ctx, cancel := context.WithCancelCause(stream.Context())
	defer cancel(nil)
	hello, err := r.handshake(ctx, stream)
	if err != nil {
		return err
	}
	s := r.newNodeStream(ctx, cancel, stream, hello)
	defer s.detach()
	// The receiver ends once this handler returns (gRPC then fails its
	// Recv), so it is counted but not waited for: waiting would deadlock.
	var wg sync.WaitGroup
	in, recvErr := recvloop.Start(ctx, &wg, 64, stream.Recv)
	return s.run(ctx, in, recvErr)
}

// handshake reads and checks the Hello and waits for the hub.
func (r *Replicator) handshake(ctx context.Context, stream edgelabv1.ReplicationService_StreamServer) (*edgelabv1.Hello, error) {
	first, err := stream.Recv()
	if err != nil {
		return nil, status.Errorf(codes.Canceled, "receiving hello: %v", err)
	}
	hello := first.GetHello()
	if hello == nil || hello.NodeId == "" {
		return nil, status.Error(codes.InvalidArgument, "first message must be a Hello with a node id")
	}
	if hello.LastRevision < 0 {
		return nil, status.Error(codes.InvalidArgument, "hello: negative last_revision")
	}
	if _, err := messageLimit(hello.MaxMessageBytes); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "hello: %v", err)
	}
	if err := r.checkIdentity(ctx, hello); err != nil {
		return nil, err
	}
	if !r.top.HasRegion(hello.Region) {
		r.log.Warn("node in a region the topology does not know; no delay applied", "node", hello.NodeId, "region", hello.Region)
	}
	if err := r.hub.waitReady(ctx); err != nil {
		return nil, status.Error(codes.Unavailable, "replicator not ready")
	}
	if nf, _ := r.cfg.Faults.ForNode(hello.NodeId, hello.Region); nf.CutStream {
		return nil, errPartitioned(hello.NodeId)
	}
	return hello, nil
}

func errPartitioned(node string) error {
	return status.Errorf(codes.Unavailable, "node %s is partitioned from the control plane (chaos fault)", node)
}

// nodeStream is the control-plane end of one node's stream. It belongs to
// the Stream goroutine.
type nodeStream struct {
	r       *Replicator
	stream  edgelabv1.ReplicationService_StreamServer
	hello   *edgelabv1.Hello
	session uint64
	log     *slog.Logger
	rnd     *rand.Rand
	maxMsg  int
	queue   *pacing.Queue[*edgelabv1.StreamResponse]
	// pos is the revision the queue brings the node to.
	pos      int64
	needSnap bool
	// resumed: the next catch-up is the first after Hello and is coalesced.
	resumed bool
	// nf are the channel's faults, re-read at every turn of the loop;
	// dropped records that an update was dropped: when the drop fault is
	// gone the node gets a fresh snapshot, so it catches up without a gap.
	nf            NodeFaults
	faultsChanged <-chan struct{}
	dropped       bool
	// nodeFaults sends the node-side faults (health-fail, fetch faults) as
	// FaultUpdates, unpaced: they are the lab's controls, not replicated state.
	nodeFaults *nodeFaultTracker
	lastRecv   time.Time
}

// newNodeStream attaches the node and positions it at its Hello revision.
func (r *Replicator) newNodeStream(ctx context.Context, cancel context.CancelCauseFunc, stream edgelabv1.ReplicationService_StreamServer, hello *edgelabv1.Hello) *nodeStream {
	rnd := rng.New()
	maxMsg, _ := messageLimit(hello.MaxMessageBytes)
	s := &nodeStream{
		r: r, stream: stream, hello: hello, rnd: rnd, maxMsg: maxMsg,
		log:        r.log.With("node", hello.NodeId, "region", hello.Region),
		queue:      pacing.NewQueue[*edgelabv1.StreamResponse](pacing.Model{Topology: r.top, Profile: r.profile, Region: hello.Region, Rand: rnd}),
		pos:        hello.LastRevision,
		nodeFaults: newNodeFaultTracker(r.cfg.Faults, hello.NodeId, hello.Region),
		lastRecv:   time.Now(),
	}
	s.needSnap = s.pos == 0 || !r.resumable(ctx, s.pos)
	s.resumed = !s.needSnap
	s.session = r.nodes.attach(ctx, hello, cancel)
	r.metrics.connected.Inc()
	s.log.Info("node attached", "last_revision", hello.LastRevision)
	return s
}

func (s *nodeStream) detach() {
	s.r.metrics.connected.Dec()
	s.r.nodes.detach(s.hello.NodeId, s.session)
}

// run is the stream loop: one turn per event until the stream ends.
func (s *nodeStream) run(ctx context.Context, in <-chan *edgelabv1.StreamRequest, recvErr <-chan error) error {
	ping := time.NewTicker(s.r.cfg.PingInterval)
	defer ping.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wake, err := s.turn()
		if err != nil {
			return err
		}
		var timerC <-chan time.Time
		if at, ok := s.queue.Next(); ok && !s.nf.HoldToNode {
			timer.Reset(time.Until(at))
			timerC = timer.C
		}
		select {
		case <-wake:
		case <-timerC:
		case <-s.faultsChanged:
			s.nodeFaults.changed()
		case m := <-in:
			err = s.onMessage(m)
		case err := <-recvErr:
			return s.ended(err)
		case <-ping.C:
			err = s.ping()
		case <-ctx.Done():
			if cause := context.Cause(ctx); status.Code(cause) == codes.Aborted {
				return cause // a newer stream of this node took over
			}
			return status.FromContextError(ctx.Err()).Err()
		case <-s.r.closing:
			return status.Error(codes.Unavailable, "control-plane replica shutting down")
		}
		if err != nil {
			return err
		}
	}
}

// turn applies the current faults, queues what the node is missing and sends
// what is due. wake is closed at the hub's next change.
func (s *nodeStream) turn() (wake <-chan struct{}, err error) {
	s.nf, s.faultsChanged = s.r.cfg.Faults.ForNode(s.hello.NodeId, s.hello.Region)
	if s.nf.CutStream {
		s.log.Info("node partitioned by a chaos fault; closing its stream")
		return nil, errPartitioned(s.hello.NodeId)
	}
	if err := s.sendNodeFaults(); err != nil {
		return nil, err
	}
	s.queue.SetExtra(s.nf.ExtraDelay)
	if s.dropped && s.nf.DropRate == 0 {
		s.log.Info("replication-drop healed; resyncing the node with a snapshot")
		s.dropped, s.needSnap = false, true
	}
	wake = s.catchUp()
	return wake, s.sendDue()
}

// sendNodeFaults sends a FaultUpdate when the node-side faults changed.
func (s *nodeStream) sendNodeFaults() error {
	if s.nf.HoldToNode {
		return nil
	}
	u := s.nodeFaults.next()
	if u == nil {
		return nil
	}
	if err := s.stream.Send(u); err != nil {
		return status.Errorf(codes.Unavailable, "sending faults to %s: %v", s.hello.NodeId, err)
	}
	s.log.Debug("node-side faults sent", "faults", len(u.GetFaults().GetFaults()))
	return nil
}

// catchUp queues a snapshot when the node needs one, then the deltas from
// its position to the hub's revision. The first catch-up after a resume is
// one delta coalesced from the node's revision to head, so an object put
// and deleted meanwhile is never sent. It returns the hub's change channel.
func (s *nodeStream) catchUp() <-chan struct{} {
	for {
		if s.needSnap {
			snap := s.r.hub.snapshot()
			s.queue.Reset()
			changed := s.r.hub.changedAt(snap.Revision)
			if changed.IsZero() {
				changed = time.Now()
			}
			s.queue.Push(&edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Snapshot{Snapshot: snap}}, snap.Revision, changed)
			s.pos, s.needSnap = snap.Revision, false
		}
		deltas, gap, wake := s.r.hub.since(s.pos)
		if gap {
			s.needSnap = true
			continue
		}
		if s.resumed && len(deltas) > 1 {
			deltas = []*edgelabv1.Delta{coalesce(deltas)}
		}
		s.resumed = false
		for _, d := range deltas {
			s.queue.Push(&edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Delta{Delta: d}}, d.Revision, d.Created.AsTime())
			s.pos = d.Revision
		}
		return wake
	}
}

// sendDue sends every queued update whose time has come; the faults decide
// how many copies of each go out.
func (s *nodeStream) sendDue() error {
	now := time.Now()
	for !s.nf.HoldToNode {
		q, ok := s.queue.Due(now)
		if !ok {
			return nil
		}
		copies := s.nf.Copies(s.rnd)
		if copies == 0 {
			s.dropped = true
			s.log.Debug("replication-drop: update dropped", "revision", q.Revision)
			continue
		}
		s.r.nodes.sent(s.hello.NodeId, s.session, q.Revision, q.Changed, s.r.now())
		for range copies {
			if err := sendUpdate(s.stream, q.Value, q.Revision, s.maxMsg); err != nil {
				return status.Errorf(codes.Unavailable, "sending to %s: %v", s.hello.NodeId, err)
			}
		}
		if q.Value.GetSnapshot() != nil {
			s.r.metrics.snapshots.Inc()
		} else {
			s.r.metrics.deltas.Inc()
		}
	}
	return nil
}

// onMessage takes one message from the node: ACK/NACK, resync request,
// heartbeat or logs.
func (s *nodeStream) onMessage(m *edgelabv1.StreamRequest) error {
	if s.nf.IgnoreFromNode {
		return nil // partition to-controlplane: the node's messages are lost
	}
	s.lastRecv = time.Now()
	switch msg := m.Msg.(type) {
	case *edgelabv1.StreamRequest_Ack:
		s.onAck(msg.Ack)
	case *edgelabv1.StreamRequest_Heartbeat:
		s.r.nodes.heartbeat(s.hello.NodeId, s.session, msg.Heartbeat)
	case *edgelabv1.StreamRequest_Logs:
		s.r.logs.add(s.hello, msg.Logs.GetLines())
	case *edgelabv1.StreamRequest_Hello:
		return status.Error(codes.InvalidArgument, "second Hello on one stream; reconnect instead")
	}
	return nil
}

func (s *nodeStream) onAck(a *edgelabv1.Ack) {
	if a.Resync {
		s.log.Info("node asked for a resync", "revision", a.Revision)
		s.needSnap = true
		return
	}
	if lat := s.r.nodes.acked(s.hello.NodeId, s.session, a); lat > 0 {
		s.r.metrics.ackLatency.Observe(lat.Seconds())
	}
	if !a.Ok {
		s.r.metrics.nacks.Inc()
		s.log.Warn("node rejected an update", "revision", a.Revision, "err", a.Error)
	}
}

// ended turns the receive error into the stream's result.
func (s *nodeStream) ended(err error) error {
	if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
		s.log.Info("node detached")
		return nil
	}
	s.log.Info("node stream ended", "err", err)
	return status.Errorf(codes.Unavailable, "receiving from %s: %v", s.hello.NodeId, err)
}

// ping checks the node's liveness and pings it.
func (s *nodeStream) ping() error {
	if silent := time.Since(s.lastRecv); silent > 3*s.r.cfg.PingInterval {
		return status.Errorf(codes.DeadlineExceeded, "node %s silent for %v", s.hello.NodeId, silent.Round(time.Millisecond))
	}
	if s.nf.HoldToNode {
		return nil // partition to-node: pings are lost too
	}
	p := &edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Ping{Ping: &edgelabv1.Ping{Sent: timestamppb.New(s.r.now()), ServerId: s.r.cfg.ServerID}}}
	if err := s.stream.Send(p); err != nil {
		return status.Errorf(codes.Unavailable, "pinging %s: %v", s.hello.NodeId, err)
	}
	return nil
}
