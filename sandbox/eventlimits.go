package sandbox

import (
	"fmt"
	"time"

	"github.com/edgelab/edgelab/edge"
)

// CheckEventLimits reports whether a function version whose settings are
// memoryMB and timeout (0: the event type's default) may be associated with
// event e under profile p. Viewer events allow at most the viewer memory
// and timeout (128 MB and 5 s by default), origin events at most the origin
// timeout (30 s); a larger setting is refused, not clamped. The error names
// the setting ("memory" or "timeout") and the limit.
func CheckEventLimits(p Profile, e edge.EventType, memoryMB int, timeout time.Duration) error {
	l := p.For(e)
	kind := "origin"
	if e.IsViewer() {
		kind = "viewer"
		if memoryMB > l.MemoryMB && l.MemoryMB > 0 {
			return fmt.Errorf("memory %d MB is over the %d MB limit for %s events", memoryMB, l.MemoryMB, kind)
		}
	}
	if timeout > l.Timeout && l.Timeout > 0 {
		return fmt.Errorf("timeout %s is over the %s limit for %s events", timeout, l.Timeout, kind)
	}
	return nil
}
