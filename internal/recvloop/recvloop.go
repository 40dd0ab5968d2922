// Package recvloop turns a blocking gRPC stream Recv into channels, so one
// goroutine can select on incoming messages, timers and its context. It is
// the receive side of both ends of the replication stream.
package recvloop

import (
	"context"
	"sync"
)

// Start runs recv on a goroutine of its own, counted in wg, delivering each
// message on the first channel (buffered by buf). The first error recv
// returns, io.EOF included, goes on the second channel and ends the
// goroutine; so does ctx ending while a message waits to be taken.
func Start[T any](ctx context.Context, wg *sync.WaitGroup, buf int, recv func() (T, error)) (<-chan T, <-chan error) {
	in := make(chan T, buf)
	errc := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			m, err := recv()
			if err != nil {
				errc <- err
				return
			}
			select {
			case in <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	return in, errc
}
