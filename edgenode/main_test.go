package edgenode

import (
	"os"
	"testing"

	"github.com/edgelab/edgelab/sandbox"
)

func TestMain(m *testing.M) {
	sandbox.MaybeRunWorker()
	os.Exit(m.Run())
}
