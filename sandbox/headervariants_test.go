package sandbox

import (
	"net/http"
	"testing"

	"github.com/edgelab/edgelab/edge"
)

// TestHeaderVariantsCompareDeterministically: a header set holding several
// case variants of a read-only name, left unchanged by the function, must
// never be flagged (the variants' values used to be gathered in map order).
func TestHeaderVariantsCompareDeterministically(t *testing.T) {
	mk := func() http.Header {
		return http.Header{
			"Host": {"a.test"}, "host": {"b.test"}, "HOST": {"c.test"}, "Hoſt": {"d.test"},
			"Via": {"1.1 x"}, "via": {"1.1 y"}, "VIA": {"1.1 z"},
		}
	}
	fail := func(format string, args ...any) error { return &RuleError{Event: edge.ViewerRequest, Msg: format} }
	for i := range 200 {
		if err := checkHeaderChanges(edge.ViewerRequest, mk(), mk(), fail); err != nil {
			t.Fatalf("try %d: unchanged headers flagged: %v", i, err)
		}
	}
	// A real change among the variants is still caught.
	after := mk()
	after["host"] = []string{"evil.test"}
	if err := checkHeaderChanges(edge.ViewerRequest, mk(), after, fail); err == nil {
		t.Fatal("a changed Host variant was not flagged")
	}
}
