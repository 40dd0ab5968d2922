package latency

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgelab/edgelab/topology"
)

const testTopology = `home: a
regions:
  - {name: a, pops: [A1]}
  - {name: b, pops: [B1]}
latency: {a: {a: 1, b: 40}, b: {b: 2}}
`

func testTop(t *testing.T) *topology.Topology {
	t.Helper()
	top, err := topology.Parse([]byte(testTopology))
	if err != nil {
		t.Fatal(err)
	}
	return top
}

func TestRoundTrip(t *testing.T) {
	m, err := New(Config{Topology: testTop(t), Scale: 0.5, FetchRegions: map[string]string{"auth.test": "b", "api.test:8443": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from, to string
		want     time.Duration
	}{
		{"a", "b", 40 * time.Millisecond}, // 2 x 40ms x 0.5
		{"b", "a", 40 * time.Millisecond},
		{"b", "b", 2 * time.Millisecond},
		{"b", "", 40 * time.Millisecond}, // empty: home
		{"mars", "a", 0},
	} {
		if got := m.RoundTrip(tc.from, tc.to); got != tc.want {
			t.Errorf("RoundTrip(%q, %q) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
	for host, want := range map[string]string{"auth.test": "b", "auth.test:443": "b", "api.test:8443": "a", "api.test:80": "a", "other:1": "a"} {
		if got := m.FetchRegion(host); got != want {
			t.Errorf("FetchRegion(%q) = %q, want %q", host, got, want)
		}
	}
	def, byHost := m.FetchTable("b")
	if def != 40*time.Millisecond || byHost["auth.test"] != 2*time.Millisecond || byHost["api.test:8443"] != 40*time.Millisecond {
		t.Errorf("FetchTable(b) = %v, %v", def, byHost)
	}
}

func TestOffIsNil(t *testing.T) {
	m, err := New(Config{Topology: testTop(t)})
	if err != nil || m != nil {
		t.Fatalf("New(scale 0) = %v, %v; want nil, nil", m, err)
	}
	if m.On() || m.RoundTrip("a", "b") != 0 || m.Home() != "" || m.FetchRegion("x") != "" {
		t.Error("a nil model adds delay or names a region")
	}
	if def, byHost := m.FetchTable("a"); def != 0 || byHost != nil {
		t.Errorf("nil FetchTable = %v, %v", def, byHost)
	}
	if err := m.Wait(context.Background(), "a", "b"); err != nil {
		t.Error(err)
	}
}

func TestNewRejects(t *testing.T) {
	top := testTop(t)
	for name, cfg := range map[string]Config{
		"negative scale": {Topology: top, Scale: -1},
		"huge scale":     {Topology: top, Scale: MaxScale + 1},
		"no topology":    {Scale: 1},
		"unknown region": {Topology: top, Scale: 1, FetchRegions: map[string]string{"h": "mars"}},
		"empty host":     {Topology: top, Scale: 1, FetchRegions: map[string]string{"": "a"}},
		"fetch, off":     {Topology: top, FetchRegions: map[string]string{"h": "a"}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

func TestWaitCancelled(t *testing.T) {
	m, err := New(Config{Topology: testTop(t), Scale: MaxScale}) // a -> b: 8s
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Wait(ctx, "a", "b") }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Wait after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return when its context was cancelled")
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]float64{"": 0, "off": 0, "on": 1, "ON": 1, "0.25": 0.25, "3": 3} {
		got, err := ParseScale(in)
		if err != nil || got != want {
			t.Errorf("ParseScale(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"fast", "-1", "NaN", "1000"} {
		if _, err := ParseScale(in); err == nil {
			t.Errorf("ParseScale(%q) accepted", in)
		}
	}
	got, err := ParseFetchRegions([]string{"auth.test=b", "127.0.0.1:9001=a"})
	if err != nil || got["auth.test"] != "b" || got["127.0.0.1:9001"] != "a" {
		t.Errorf("ParseFetchRegions = %v, %v", got, err)
	}
	for _, in := range []string{"auth.test", "=a", "h=", "http://h=a"} {
		if _, err := ParseFetchRegions([]string{in}); err == nil {
			t.Errorf("ParseFetchRegions(%q) accepted", in)
		}
	}
}
