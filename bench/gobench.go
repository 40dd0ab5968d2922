package bench

import (
	"bufio"
	"strconv"
	"strings"
)

// GoBench maps a benchmark name (without the -GOMAXPROCS suffix, e.g.
// "BenchmarkHS256/interpreted") to its metrics by unit ("ns/op", "p50-us").
type GoBench map[string]map[string]float64

// ParseGoBench reads `go test -bench` output. Lines that are not benchmark
// results are ignored; a malformed value ends that line's metrics.
func ParseGoBench(out string) GoBench {
	res := GoBench{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue // "BenchmarkX ... --- FAIL" or a log line
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		m := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			m[f[i+1]] = v
		}
		if len(m) > 0 {
			res[name] = m
		}
	}
	return res
}

// Get returns a metric and whether it was present.
func (g GoBench) Get(bench, unit string) (float64, bool) {
	v, ok := g[bench][unit]
	return v, ok
}
