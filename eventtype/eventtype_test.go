package eventtype

import (
	"testing"

	"github.com/edgelab/edgelab/edge"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// TestRoundTrips: every SDK event type maps to a distinct wire value and
// back, and its name parses to the same wire value.
func TestRoundTrips(t *testing.T) {
	seen := map[edgelabv1.EventType]bool{}
	for _, e := range edge.EventTypes() {
		w := ToProto(e)
		if w == edgelabv1.EventType_EVENT_TYPE_UNSPECIFIED || seen[w] {
			t.Fatalf("ToProto(%q) = %v (duplicate or unspecified)", e, w)
		}
		seen[w] = true
		if got := FromProto(w); got != e {
			t.Errorf("FromProto(ToProto(%q)) = %q", e, got)
		}
		if got, ok := Parse(Name(w)); !ok || got != w {
			t.Errorf("Parse(Name(%v)) = %v, %v", w, got, ok)
		}
	}
	if len(seen) != len(edgelabv1.EventType_name)-1 {
		t.Errorf("%d event types mapped, the wire enum has %d besides UNSPECIFIED", len(seen), len(edgelabv1.EventType_name)-1)
	}
}

// TestUnknown: unknown names and values map to nothing.
func TestUnknown(t *testing.T) {
	for _, name := range []string{"", "Viewer-Request", "viewer_request", "unspecified", "origin-request "} {
		if e, ok := Parse(name); ok {
			t.Errorf("Parse(%q) = %v, true", name, e)
		}
	}
	if got := Name(edgelabv1.EventType(99)); got != Unspecified {
		t.Errorf("Name(99) = %q", got)
	}
	if got := FromProto(edgelabv1.EventType_EVENT_TYPE_UNSPECIFIED); got != "" {
		t.Errorf("FromProto(UNSPECIFIED) = %q", got)
	}
	if got := ToProto("edge-request"); got != edgelabv1.EventType_EVENT_TYPE_UNSPECIFIED {
		t.Errorf("ToProto(edge-request) = %v", got)
	}
}
