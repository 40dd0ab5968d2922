package sandbox

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/edgelab/edgelab/edge"
)

// slowHeaderChanges is the general rule (every key compared
// case-insensitively), the reference the fast path must agree with.
func slowHeaderChanges(e edge.EventType, before, after http.Header) error {
	fail := func(f string, a ...any) error { return fmt.Errorf(f, a...) }
	for _, name := range readOnly[e] {
		if !slices.Equal(headerValues(before, name), headerValues(after, name)) {
			return fail("read-only header %s was changed", name)
		}
	}
	for _, k := range sortedKeys(after) {
		if IsDisallowedHeader(k) && !slices.Equal(headerValues(before, k), headerValues(after, k)) {
			return fail("disallowed header %s was added or changed", http.CanonicalHeaderKey(k))
		}
	}
	return nil
}

func TestCheckHeaderChangesFastPathAgrees(t *testing.T) {
	base := http.Header{"Host": {"a.test"}, "Via": {"1.1 x"}, "Accept": {"*/*"}, "X-Edgelab-Node": {"n1"}}
	with := func(mod func(h http.Header)) http.Header {
		h := base.Clone()
		mod(h)
		return h
	}
	tests := []struct {
		name    string
		ev      edge.EventType
		after   http.Header
		wantErr bool
	}{
		{"unchanged", edge.ViewerRequest, base.Clone(), false},
		{"added ordinary header", edge.ViewerRequest, with(func(h http.Header) { h["X-Hello"] = []string{"edge"} }), false},
		{"removed ordinary header", edge.ViewerRequest, with(func(h http.Header) { delete(h, "Accept") }), false},
		{"changed read-only Host", edge.ViewerRequest, with(func(h http.Header) { h["Host"] = []string{"b.test"} }), true},
		{"removed read-only Via", edge.ViewerRequest, with(func(h http.Header) { delete(h, "Via") }), true},
		{"Host writable at origin-response", edge.OriginResponse, with(func(h http.Header) { h["Host"] = []string{"b.test"} }), false},
		{"lower-case read-only key added", edge.ViewerRequest, with(func(h http.Header) { h["host"] = []string{"b.test"} }), true},
		{"long-s Unicode fold of Host", edge.ViewerRequest, with(func(h http.Header) { h["Hoſt"] = []string{"b.test"} }), true},
		{"Kelvin-sign fold of Keep-Alive", edge.ViewerRequest, with(func(h http.Header) { h["\u212Aeep-Alive"] = []string{"x"} }), false},
		{"disallowed added", edge.ViewerRequest, with(func(h http.Header) { h["X-Cache"] = []string{"Hit"} }), true},
		{"disallowed prefix changed", edge.ViewerRequest, with(func(h http.Header) { h["X-Edgelab-Node"] = []string{"n2"} }), true},
		{"disallowed lower-case added", edge.ViewerRequest, with(func(h http.Header) { h["x-edgelab-pop"] = []string{"x"} }), true},
		{"disallowed key with a space", edge.ViewerRequest, with(func(h http.Header) { h["X-Edgelab-a b"] = []string{"x"} }), true},
		{"empty key", edge.ViewerRequest, with(func(h http.Header) { h[""] = []string{"x"} }), false},
		{"nil vs empty values", edge.ViewerRequest, with(func(h http.Header) { h["Via"] = nil }), true},
		{"nil header after", edge.ViewerResponse, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := base
			if tt.ev == edge.ViewerResponse {
				before = http.Header{"Content-Type": {"text/html"}}
			}
			fail := func(f string, a ...any) error { return fmt.Errorf(f, a...) }
			got := checkHeaderChanges(tt.ev, before, tt.after, fail)
			want := slowHeaderChanges(tt.ev, before, tt.after)
			if (got != nil) != tt.wantErr {
				t.Fatalf("checkHeaderChanges = %v, want error %v", got, tt.wantErr)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("fast path says %v, the general rule says %v", got, want)
			}
		})
	}
}

func TestIsCanonicalTokenKey(t *testing.T) {
	tests := []struct {
		k    string
		want bool
	}{
		{"Host", true}, {"X-Edgelab-Node", true}, {"Cdn-Loop", true}, {"X-1a", true}, {"Www-Authenticate", true},
		{"host", false}, {"HOST", false}, {"X-edgelab", false}, {"", false}, {"Hoſt", false},
		{"X A", false}, {"X:A", false}, {"A\x00", false}, {"X-1A", false}, {"X!a", true},
	}
	for _, tt := range tests {
		if got := isCanonicalTokenKey(tt.k); got != tt.want {
			t.Errorf("isCanonicalTokenKey(%q) = %v, want %v", tt.k, got, tt.want)
		}
		if tt.want && http.CanonicalHeaderKey(tt.k) != tt.k {
			t.Errorf("%q: says canonical, net/http disagrees (%q)", tt.k, http.CanonicalHeaderKey(tt.k))
		}
	}
}

// BenchmarkCheckHeaderChanges: the result rule check of a typical
// viewer-request that adds one header.
func BenchmarkCheckHeaderChanges(b *testing.B) {
	before := http.Header{"Host": {"a.test"}, "Accept": {"*/*"}, "User-Agent": {"bench"}, "Accept-Encoding": {"gzip"},
		"Cookie": {"a=b"}, "Authorization": {"Bearer x"}, "Via": {"1.1 x"}}
	after := before.Clone()
	after.Set("X-Hello", "edge")
	fail := func(f string, a ...any) error { return fmt.Errorf(f, a...) }
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if err := checkHeaderChanges(edge.ViewerRequest, before, after, fail); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("general", func(b *testing.B) {
		for b.Loop() {
			if err := slowHeaderChanges(edge.ViewerRequest, before, after); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestDisallowedQuickRejectCoversTheLists: the first-letter quick reject
// in IsDisallowedHeader must let every listed name through.
func TestDisallowedQuickRejectCoversTheLists(t *testing.T) {
	for _, d := range append(slices.Clone(disallowedExact), disallowedPrefixes...) {
		for _, name := range []string{d, d + "Foo", strings.ToLower(d) + "x"} {
			if slices.Contains(disallowedPrefixes, d) || slices.Contains(disallowedExact, name) {
				if !IsDisallowedHeader(name) {
					t.Errorf("IsDisallowedHeader(%q) = false", name)
				}
			}
		}
	}
	for _, name := range []string{"", "Accept", "host", "Via", "Content-Type", "Xy", "Cache-Control"} {
		if IsDisallowedHeader(name) {
			t.Errorf("IsDisallowedHeader(%q) = true", name)
		}
	}
}

// TestCheckHeaderChangesFastPathAgreesRandom: on random header sets drawn
// from read-only, disallowed, ordinary and non-canonical names (added,
// removed, changed, nil or empty values), for every event type: with
// canonical keys only, the fast path decides exactly as the general rule;
// with any other key it defers to the general rule. (Only the fast path is
// compared: the general rule's order of values under case-variant keys
// follows map iteration.)
func TestCheckHeaderChangesFastPathAgreesRandom(t *testing.T) {
	names := []string{"Host", "Via", "Content-Length", "Accept-Encoding", "If-Range", "Warning", "Content-Encoding",
		"Transfer-Encoding", "X-Cache", "X-Edgelab-Node", "Accept", "X-Hello", "host", "x-edgelab-pop", "Hoſt"}
	values := [][]string{nil, {}, {"a"}, {"b"}, {"a", "b"}}
	rng := rand.New(rand.NewPCG(1, 2))
	canonicalOnly := func(hs ...http.Header) bool {
		for _, h := range hs {
			for k := range h {
				if http.CanonicalHeaderKey(k) != k || !isCanonicalTokenKey(k) {
					return false
				}
			}
		}
		return true
	}
	for i := range 20000 {
		n := len(names)
		if i%2 == 0 {
			n = 12 // canonical names only
		}
		before := http.Header{}
		for _, name := range names[:n] {
			if rng.IntN(3) == 0 {
				before[name] = values[rng.IntN(len(values))]
			}
		}
		after := before.Clone()
		for range rng.IntN(3) {
			name := names[rng.IntN(n)]
			if rng.IntN(2) == 0 {
				delete(after, name)
			} else {
				after[name] = values[rng.IntN(len(values))]
			}
		}
		for _, e := range edge.EventTypes() {
			fast := headerChangesAllowedFast(e, before, after)
			if !canonicalOnly(before, after) {
				if fast {
					t.Fatalf("case %d %s: before %v after %v: the fast path decided with non-canonical keys", i, e, before, after)
				}
				continue
			}
			if want := slowHeaderChanges(e, before, after) == nil; fast != want {
				t.Fatalf("case %d %s: before %v after %v: fast path allows %v, the general rule %v", i, e, before, after, fast, want)
			}
		}
	}
}
