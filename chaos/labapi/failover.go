package labapi

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// FailoverConn is a grpc.ClientConnInterface over several control-plane
// replicas: a call that fails with Unavailable (the replica is down or
// partitioned) is retried on the next replica, and the replica that
// answered is tried first next time. A scenario that kills a control plane
// keeps driving the lab through the others. Safe for concurrent use.
type FailoverConn struct {
	addrs []string
	conns []*grpc.ClientConn

	mu   sync.Mutex
	next int
}

var _ grpc.ClientConnInterface = (*FailoverConn)(nil)

// DialFailover creates clients for every address (no connection is made
// until the first call). opts must carry the transport credentials
// (Endpoints.DialOptions). Close releases them.
func DialFailover(addrs []string, opts ...grpc.DialOption) (*FailoverConn, error) {
	if len(addrs) == 0 {
		return nil, errors.New("labapi: no control-plane address")
	}
	f := &FailoverConn{addrs: addrs}
	for _, a := range addrs {
		c, err := grpc.NewClient(a, opts...)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("labapi: control plane %s: %w", a, err)
		}
		f.conns = append(f.conns, c)
	}
	return f, nil
}

// order returns the replica indexes to try, the last good one first.
func (f *FailoverConn) order() []int {
	f.mu.Lock()
	start := f.next
	f.mu.Unlock()
	out := make([]int, len(f.conns))
	for i := range out {
		out[i] = (start + i) % len(f.conns)
	}
	return out
}

func (f *FailoverConn) good(i int) {
	f.mu.Lock()
	f.next = i
	f.mu.Unlock()
}

// Invoke implements grpc.ClientConnInterface.
func (f *FailoverConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	var last error
	for _, i := range f.order() {
		err := f.conns[i].Invoke(ctx, method, args, reply, opts...)
		if status.Code(err) != codes.Unavailable {
			if err == nil {
				f.good(i)
			}
			return err
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return last
}

// NewStream implements grpc.ClientConnInterface; only opening the stream
// fails over.
func (f *FailoverConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	var last error
	for _, i := range f.order() {
		s, err := f.conns[i].NewStream(ctx, desc, method, opts...)
		if status.Code(err) != codes.Unavailable {
			if err == nil {
				f.good(i)
			}
			return s, err
		}
		last = err
	}
	return nil, last
}

// Close closes every client.
func (f *FailoverConn) Close() error {
	var errs []error
	for _, c := range f.conns {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
