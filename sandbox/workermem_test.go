package sandbox

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/edgelab/edgelab/internal/poll"
)

// TestWorkerMemoryReported: a loaded version with a live worker reports
// the worker's RSS as the watchdog reads it; an unloaded one does not.
func TestWorkerMemoryReported(t *testing.T) {
	m := newTestManager(t, nil)
	if err := m.Load(context.Background(), code("hostile", hostileSrc)); err != nil {
		t.Fatal(err)
	}
	mustInvoke(t, m, viewerReq("hostile", "/"))
	poll.Until(t, 10*time.Second, "the worker's memory reported", func() error {
		got := m.WorkerMemory()
		if len(got) != 1 || got[0].Function != "hostile" || got[0].Version != 1 || got[0].RSSBytes <= 0 {
			return fmt.Errorf("WorkerMemory() = %+v", got)
		}
		return nil
	})
	m.Unload("hostile", 1)
	if got := m.WorkerMemory(); len(got) != 0 {
		t.Errorf("after Unload, WorkerMemory() = %+v", got)
	}
}
