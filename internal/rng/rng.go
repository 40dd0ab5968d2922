// Package rng makes the random sources edgelab's components use for jitter,
// backoff and chaos: one unpredictable source per owner (never the shared
// global one, so a test can replace it), or a seeded one that replays the
// same sequence for the same seed.
package rng

import (
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
)

// New returns a source seeded from the operating system's randomness. It is
// not safe for concurrent use: each goroutine that draws owns its own.
func New() *rand.Rand {
	var b [16]byte
	_, _ = crand.Read(b[:]) // never fails (crypto/rand.Read's contract)
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])))
}

// Seeded returns a source that yields the same sequence for the same seed
// (a chaos schedule replayed from its seed). Not safe for concurrent use.
func Seeded(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}
