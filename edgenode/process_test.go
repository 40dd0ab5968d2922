package edgenode

import (
	"testing"
)

// A node started with a state dir but no control plane and nothing persisted
// yet starts empty (static stability has nothing to serve), it does not fail.
func TestProcessWithEmptyStateDirAndNoControlPlane(t *testing.T) {
	p, err := NewProcess(ProcessConfig{Node: Config{Runner: newFakeRunner()}, StateDir: t.TempDir()})
	if err != nil {
		t.Fatalf("NewProcess: %v", err)
	}
	defer p.Close()
	if p.Replica() != nil {
		t.Fatal("no control plane: want no replication client")
	}
	if rev := p.Node().Revision(); rev != 0 {
		t.Fatalf("revision %d, want 0", rev)
	}
}
