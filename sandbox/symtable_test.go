package sandbox

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/edge"
)

// TestInterpSymbolsByImports: a function importing none of the packages
// that need yaegi's generic source gets only its imports (no "fmt/fmt",
// which makes yaegi compile that source); any of them, or unknown
// imports (nil), gets the whole allowlist. The edge SDK is always there.
func TestInterpSymbolsByImports(t *testing.T) {
	const sdk = "github.com/edgelab/edgelab/edge/edge"
	tests := []struct {
		name    string
		imports map[string]bool
		want    []string // keys that must be present
		absent  []string // keys that must not be
	}{
		{"plain", map[string]bool{"context": true, "strings": true}, []string{"context/context", "strings/strings", sdk}, []string{"fmt/fmt", "slices/slices", "bytes/bytes"}},
		{"no std at all", map[string]bool{}, []string{sdk}, []string{"fmt/fmt", "context/context"}},
		{"fmt", map[string]bool{"fmt": true}, []string{"fmt/fmt", "slices/slices", "bytes/bytes", sdk}, nil},
		{"slices", map[string]bool{"slices": true}, []string{"fmt/fmt", "slices/slices", sdk}, nil},
		{"maps", map[string]bool{"maps": true, "context": true}, []string{"fmt/fmt", "maps/maps"}, nil},
		{"cmp", map[string]bool{"cmp": true}, []string{"fmt/fmt"}, nil},
		{"unknown imports", nil, []string{"fmt/fmt", "strings/strings", sdk}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := interpSymbols(tt.imports)
			for _, k := range tt.want {
				if _, ok := got[k]; !ok {
					t.Errorf("%s missing", k)
				}
			}
			for _, k := range tt.absent {
				if _, ok := got[k]; ok {
					t.Errorf("%s present, want absent", k)
				}
			}
		})
	}
}

// TestGenericStdlibInHandlers: handlers using a generic standard package
// (slices), fmt, or neither, compile and run.
func TestGenericStdlibInHandlers(t *testing.T) {
	srcs := map[string]string{
		// yaegi 0.16 interprets part of its generic source: Contains and
		// Index work, Sort and maps.Clone do not (with or without this
		// sandbox's symbol table).
		"slices": `package fn
import (
	"context"
	"slices"
	"github.com/edgelab/edgelab/edge"
)
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	keys := []string{"a", "b"}
	if slices.Contains(keys, "b") && slices.Index(keys, "b") == 1 {
		req.Header.Set("X-Out", keys[0]+keys[1])
	}
	return nil, nil
}`,
		"fmt": `package fn
import (
	"context"
	"fmt"
	"github.com/edgelab/edgelab/edge"
)
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	req.Header.Set("X-Out", fmt.Sprintf("%s%s", "a", "b"))
	return nil, nil
}`,
		"strings only": `package fn
import (
	"context"
	"strings"
	"github.com/edgelab/edgelab/edge"
)
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	req.Header.Set("X-Out", strings.ToLower("AB"))
	return nil, nil
}`,
	}
	want := map[string]string{"slices": "ab", "fmt": "ab", "strings only": "ab"}
	for name, src := range srcs {
		t.Run(name, func(t *testing.T) {
			p, err := compile(map[string][]byte{"fn.go": []byte(src)})
			if err != nil {
				t.Fatal(err)
			}
			req := &edge.Request{URI: "/", Header: map[string][]string{}}
			res := p.call(context.Background(), edge.ViewerRequest, edge.Info{}, req, nil, 5*time.Second, nil, nil)
			if res.kind != "" {
				t.Fatalf("call failed: %s %s", res.kind, res.err)
			}
			if got := res.req.Header.Get("X-Out"); got != want[name] {
				t.Fatalf("X-Out = %q, want %q", got, want[name])
			}
		})
	}
}

// TestInterpreterHeapWithoutGenericSource: an interpreter for a function
// that needs no generic source keeps far less live heap than one that
// does (measured: about 60 KB against 1 MB).
func TestInterpreterHeapWithoutGenericSource(t *testing.T) {
	plain := []byte(trivialSrc)
	withFmt := []byte(`package fn
import (
	"context"
	"fmt"
	"github.com/edgelab/edgelab/edge"
)
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	req.Header.Set("X-Out", fmt.Sprint(1))
	return nil, nil
}`)
	const n = 4
	perInterp := func(src []byte) uint64 {
		before := liveHeap()
		ps := make([]*program, n)
		for i := range ps {
			p, err := compile(map[string][]byte{"fn.go": src})
			if err != nil {
				t.Fatal(err)
			}
			ps[i] = p
		}
		after := liveHeap()
		runtime.KeepAlive(ps)
		if after < before {
			return 0
		}
		return (after - before) / n
	}
	small, big := perInterp(plain), perInterp(withFmt)
	t.Logf("live heap per interpreter: %d KB without generic source, %d KB with", small>>10, big>>10)
	if small*4 > big {
		t.Fatalf("interpreter without generic source keeps %d KB, not well under the %d KB of one with it", small>>10, big>>10)
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestGenericFuncsThatRun checks genericFuncsThatRun against the yaegi in
// go.mod: a call of every function on the list compiles and runs, and a
// call of every function the validator refuses (all that were tried)
// fails to compile. A yaegi upgrade that changes either fails here.
func TestGenericFuncsThatRun(t *testing.T) {
	runs := map[string]string{
		"slices.Contains":     `_ = slices.Contains([]int{1, 2}, 2)`,
		"slices.ContainsFunc": `_ = slices.ContainsFunc([]int{1, 2}, func(i int) bool { return i == 2 })`,
		"slices.Index":        `_ = slices.Index([]string{"a", "b"}, "b")`,
		"slices.IndexFunc":    `_ = slices.IndexFunc([]string{"a", "b"}, func(s string) bool { return s == "b" })`,
		"slices.EqualFunc":    `_ = slices.EqualFunc([]int{1}, []int{1}, func(a, b int) bool { return a == b })`,
		"slices.CompareFunc":  `_ = slices.CompareFunc([]int{1}, []int{2}, func(a, b int) int { return a - b })`,
		"maps.DeleteFunc":     `mm := map[string]int{"a": 1}; maps.DeleteFunc(mm, func(k string, v int) bool { return true })`,
	}
	fails := map[string]string{
		"slices.Sort":         `s := []int{2, 1}; slices.Sort(s)`,
		"slices.SortFunc":     `s := []int{2, 1}; slices.SortFunc(s, func(a, b int) int { return a - b })`,
		"slices.Equal":        `_ = slices.Equal([]int{1}, []int{1})`,
		"slices.Reverse":      `s := []int{2, 1}; slices.Reverse(s)`,
		"slices.Max":          `_ = slices.Max([]int{2, 1})`,
		"slices.Min":          `_ = slices.Min([]int{2, 1})`,
		"slices.Insert":       `_ = slices.Insert([]int{2, 1}, 0, 5)`,
		"slices.Delete":       `_ = slices.Delete([]int{2, 1}, 0, 1)`,
		"slices.DeleteFunc":   `_ = slices.DeleteFunc([]int{1, 2}, func(a int) bool { return a == 1 })`,
		"slices.Clone":        `_ = slices.Clone([]int{2, 1})`,
		"slices.Compact":      `_ = slices.Compact([]int{2, 2, 1})`,
		"slices.Concat":       `_ = slices.Concat([]int{1}, []int{2})`,
		"slices.BinarySearch": `_, _ = slices.BinarySearch([]int{1, 2}, 2)`,
		"slices.IsSorted":     `_ = slices.IsSorted([]int{1, 2})`,
		"slices.Compare":      `_ = slices.Compare([]int{1}, []int{2})`,
		"maps.Clone":          `_ = maps.Clone(map[string]int{"a": 1})`,
		"maps.Copy":           `mm := map[string]int{}; maps.Copy(mm, map[string]int{"a": 1})`,
		"maps.Equal":          `_ = maps.Equal(map[string]int{"a": 1}, map[string]int{"a": 1})`,
		"maps.EqualFunc":      `_ = maps.EqualFunc(map[string]int{"a": 1}, map[string]int{"a": 1}, func(a, b int) bool { return a == b })`,
	}
	if len(runs) != len(genericFuncsThatRun) {
		t.Fatalf("%d calls for %d listed functions", len(runs), len(genericFuncsThatRun))
	}
	src := func(name, stmt string) []byte {
		pkg, _, _ := strings.Cut(name, ".")
		return []byte(`package fn
import (
	"context"
	"` + pkg + `"
	"github.com/edgelab/edgelab/edge"
)
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	` + stmt + `
	return nil, nil
}`)
	}
	for name, stmt := range runs {
		if !genericFuncsThatRun[name] {
			t.Errorf("%s has a call but is not in genericFuncsThatRun", name)
		}
		p, err := compile(map[string][]byte{"fn.go": src(name, stmt)})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		res := p.call(context.Background(), edge.ViewerRequest, edge.Info{}, &edge.Request{URI: "/", Header: map[string][]string{}}, nil, 5*time.Second, nil, nil)
		if res.kind != "" {
			t.Errorf("%s: call failed: %s %s", name, res.kind, res.err)
		}
	}
	for name, stmt := range fails {
		if genericFuncsThatRun[name] {
			t.Errorf("%s is listed as running", name)
		}
		if _, err := compile(map[string][]byte{"fn.go": src(name, stmt)}); err == nil {
			t.Errorf("%s compiled: yaegi now runs it; add it to genericFuncsThatRun", name)
		}
	}
}
