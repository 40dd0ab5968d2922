package labapi

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/edgelab/edgelab/chaos"
	"github.com/edgelab/edgelab/chaos/compose"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// Containers is the container-level part of the compose lab (compose.Docker
// implements it). Implementations are safe for concurrent use.
type Containers interface {
	// Act runs stop, kill, start, pause or unpause on the target's container.
	Act(ctx context.Context, verb, target string) error
}

var _ Containers = (*compose.Docker)(nil)

// FaultsConfig configures Faults.
type FaultsConfig struct {
	// Conn reaches a control plane (ChaosService). Required.
	Conn grpc.ClientConnInterface
	// Containers, when set, takes the process verbs (stop, kill, start,
	// pause, unpause): the compose lab. Nil sends every fault to the
	// ChaosService (the all-in-one lab acts on process faults itself).
	Containers Containers
}

// Faults implements chaos.Faults. Close ends the timers of container faults
// with a duration. Safe for concurrent use.
type Faults struct {
	cfg   FaultsConfig
	chaos edgelabv1.ChaosServiceClient

	mu     sync.Mutex
	seq    int
	local  map[string]*edgelabv1.Fault // container faults by id
	timers map[string]*time.Timer
	closed bool
}

var _ chaos.Faults = (*Faults)(nil)

// NewFaults checks cfg.
func NewFaults(cfg FaultsConfig) (*Faults, error) {
	if cfg.Conn == nil {
		return nil, errors.New("labapi: a control-plane connection is required")
	}
	return &Faults{cfg: cfg, chaos: edgelabv1.NewChaosServiceClient(cfg.Conn),
		local: map[string]*edgelabv1.Fault{}, timers: map[string]*time.Timer{}}, nil
}

func processVerb(kind string) bool {
	switch kind {
	case "stop", "kill", "start", "pause", "unpause":
		return true
	}
	return false
}

// resolveIndex turns controlplane:@N into controlplane:cp<N+1>, the names
// both labs give their replicas; etcd:@N likewise becomes etcd:etcd<N+1>.
func resolveIndex(target string) string {
	for kind, prefix := range map[string]string{"controlplane": "cp", "etcd": "etcd"} {
		if n, ok := strings.CutPrefix(target, kind+":@"); ok {
			if i, err := strconv.Atoi(n); err == nil && i >= 0 {
				return kind + ":" + prefix + strconv.Itoa(i+1)
			}
		}
	}
	return target
}

// Inject implements chaos.Faults.
func (f *Faults) Inject(ctx context.Context, fault *edgelabv1.Fault) (*edgelabv1.Fault, error) {
	in := &edgelabv1.Fault{Kind: fault.GetKind(), Target: resolveIndex(fault.GetTarget()), Direction: fault.GetDirection(),
		Latency: fault.GetLatency(), Rate: fault.GetRate(), Status: fault.GetStatus(), Duration: fault.GetDuration(), Id: fault.GetId()}
	if f.cfg.Containers == nil || !processVerb(in.Kind) {
		resp, err := f.chaos.Inject(ctx, &edgelabv1.InjectRequest{Fault: in})
		if err != nil {
			return nil, err
		}
		return resp.GetFault(), nil
	}
	if err := f.cfg.Containers.Act(ctx, in.Kind, in.Target); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	in.Id = fmt.Sprintf("container-%s-%d", in.Kind, f.seq)
	if undo := compose.Undo(in.Kind); undo != "" {
		f.local[in.Id] = in
		if d := in.GetDuration().AsDuration(); d > 0 && !f.closed {
			id := in.Id
			f.timers[id] = time.AfterFunc(d, func() {
				hctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_ = f.Heal(hctx, id)
			})
		}
	}
	return in, nil
}

// Heal implements chaos.Faults. A fault that is already gone (healed or
// expired) is not an error.
func (f *Faults) Heal(ctx context.Context, id string) error {
	f.mu.Lock()
	local, isLocal := f.local[id]
	delete(f.local, id)
	if t := f.timers[id]; t != nil {
		t.Stop()
		delete(f.timers, id)
	}
	f.mu.Unlock()
	if isLocal {
		return f.cfg.Containers.Act(ctx, compose.Undo(local.Kind), local.Target)
	}
	if strings.HasPrefix(id, "container-") {
		return nil // a start/unpause, or healed already
	}
	_, err := f.chaos.Heal(ctx, &edgelabv1.HealRequest{Id: id})
	if status.Code(err) == codes.NotFound {
		return nil
	}
	return err
}

// Close stops the timers of container faults with a duration (their faults
// stay until healed).
func (f *Faults) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for id, t := range f.timers {
		t.Stop()
		delete(f.timers, id)
	}
}
