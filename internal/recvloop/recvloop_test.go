package recvloop

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// TestDeliversThenError: messages arrive in order, then recv's error.
func TestDeliversThenError(t *testing.T) {
	var wg sync.WaitGroup
	msgs := []int{1, 2, 3}
	boom := errors.New("boom")
	i := 0
	in, errc := Start(context.Background(), &wg, 1, func() (int, error) {
		if i == len(msgs) {
			return 0, boom
		}
		i++
		return msgs[i-1], nil
	})
	for _, want := range msgs {
		if got := <-in; got != want {
			t.Fatalf("got %d, want %d", got, want)
		}
	}
	if err := <-errc; !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	wg.Wait()
}

// TestStopsOnContext: a receiver blocked on a full channel ends with ctx.
func TestStopsOnContext(t *testing.T) {
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	in, _ := Start(ctx, &wg, 0, func() (int, error) { return 7, nil })
	if got := <-in; got != 7 {
		t.Fatalf("got %d", got)
	}
	cancel()
	wg.Wait() // returns only when the goroutine ended
}
