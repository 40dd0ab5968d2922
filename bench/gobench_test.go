package bench

import "testing"

const goBenchSample = `goos: linux
pkg: github.com/edgelab/edgelab/sandbox
BenchmarkHS256/compiled-helper-2     	      50	     44460 ns/op	      9099 verify-ns/op	    5953 B/op	     119 allocs/op
BenchmarkWarmWorker-2                	      50	   1150509 ns/op	       170.0 p50-us	     44781 p99-us
BenchmarkWorkerRSS                   	      50	    269555 ns/op	        24.45 RSS-MB
BenchmarkBroken-2 --- FAIL: something
BenchmarkOdd-2   12  7 ns/op  oops unit  9 more
    bench_test.go:12: a log line
PASS
`

func TestParseGoBench(t *testing.T) {
	g := ParseGoBench(goBenchSample)
	for _, tc := range []struct {
		bench, unit string
		want        float64
	}{
		{"BenchmarkHS256/compiled-helper", "verify-ns/op", 9099},
		{"BenchmarkHS256/compiled-helper", "allocs/op", 119},
		{"BenchmarkWarmWorker", "p50-us", 170},
		{"BenchmarkWarmWorker", "p99-us", 44781},
		{"BenchmarkWorkerRSS", "RSS-MB", 24.45},
		{"BenchmarkOdd", "ns/op", 7},
	} {
		if v, ok := g.Get(tc.bench, tc.unit); !ok || v != tc.want {
			t.Errorf("%s %s = %v %v, want %v", tc.bench, tc.unit, v, ok, tc.want)
		}
	}
	if _, ok := g["BenchmarkBroken"]; ok {
		t.Error("failed benchmark parsed")
	}
	if _, ok := g.Get("BenchmarkOdd", "more"); ok {
		t.Error("parsed past a malformed value")
	}
	if len(ParseGoBench("\x00garbage\nBenchmark\n")) != 0 {
		t.Error("garbage parsed")
	}
}
