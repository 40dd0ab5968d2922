package rng

import "testing"

func draw(n int, next func() uint64) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = next()
	}
	return out
}

// TestSeededReplays: one seed, one sequence; another seed, another.
func TestSeededReplays(t *testing.T) {
	a, b, c := Seeded(7), Seeded(7), Seeded(8)
	x, y, z := draw(16, a.Uint64), draw(16, b.Uint64), draw(16, c.Uint64)
	for i := range x {
		if x[i] != y[i] {
			t.Fatalf("seed 7 drew %d then %d at %d", x[i], y[i], i)
		}
	}
	same := 0
	for i := range x {
		if x[i] == z[i] {
			same++
		}
	}
	if same == len(x) {
		t.Fatal("seeds 7 and 8 drew the same sequence")
	}
}

// TestNewDiffers: two unseeded sources do not draw the same sequence.
func TestNewDiffers(t *testing.T) {
	x, y := draw(4, New().Uint64), draw(4, New().Uint64)
	if x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] {
		t.Fatal("two New sources drew the same 4 values")
	}
}
