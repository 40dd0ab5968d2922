package replica

import (
	"context"
	"io"
	"log/slog"
	"testing"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// faultApplier records ApplyFaults calls.
type faultApplier struct {
	ApplierFunc
	calls [][]*edgelabv1.Fault
}

func (f *faultApplier) ApplyFaults(faults []*edgelabv1.Fault) { f.calls = append(f.calls, faults) }

func faultUpdate(faults ...*edgelabv1.Fault) *edgelabv1.StreamResponse {
	return &edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Faults{Faults: &edgelabv1.FaultUpdate{Faults: faults}}}
}

func TestFaultUpdates(t *testing.T) {
	hf := &edgelabv1.Fault{Id: "hf", Kind: "health-fail", Target: "node:n"}
	fe := &edgelabv1.Fault{Id: "fe", Kind: "fetch-errors", Target: "function:auth"}
	tests := []struct {
		name string
		msg  *edgelabv1.StreamResponse
		want []string // ids the applier and Faults() see
	}{
		{"first update", faultUpdate(hf), []string{"hf"}},
		{"replaces the list", faultUpdate(fe, hf), []string{"fe", "hf"}},
		{"empty heals all", faultUpdate(), nil},
		{"nil FaultUpdate is an empty list", &edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Faults{}}, nil},
		{"unknown kinds are passed on", faultUpdate(&edgelabv1.Fault{Id: "x", Kind: "from-the-future"}), []string{"x"}},
	}
	app := &faultApplier{ApplierFunc: noop}
	c, err := New(Config{DialOptions: plaintext(), NodeID: "n", Endpoints: []string{"x"}, Applier: app, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Faults(); got != nil {
		t.Fatalf("Faults before any update = %v, want nil", got)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ack := c.handle(context.Background(), tt.msg); ack != nil {
				t.Fatalf("fault update acked: %v", ack)
			}
			if len(app.calls) != i+1 {
				t.Fatalf("ApplyFaults called %d times, want %d", len(app.calls), i+1)
			}
			if got := ids(app.calls[i]); !equal(got, tt.want) {
				t.Fatalf("ApplyFaults(%v), want %v", got, tt.want)
			}
			if got := ids(c.Faults()); !equal(got, tt.want) {
				t.Fatalf("Faults() = %v, want %v", got, tt.want)
			}
			if c.Revision() != 0 || len(c.History()) != 0 {
				t.Fatalf("a fault update moved the revision: %d %v", c.Revision(), c.History())
			}
		})
	}
}

func TestFaultUpdateWithoutFaultApplier(t *testing.T) {
	c, err := New(Config{DialOptions: plaintext(), NodeID: "n", Endpoints: []string{"x"}, Applier: noop, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if ack := c.handle(context.Background(), faultUpdate(&edgelabv1.Fault{Id: "hf"})); ack != nil {
		t.Fatalf("fault update acked: %v", ack)
	}
	if got := ids(c.Faults()); !equal(got, []string{"hf"}) {
		t.Fatalf("Faults() = %v, want [hf]", got)
	}
}

func ids(fs []*edgelabv1.Fault) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.GetId())
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
