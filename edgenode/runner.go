package edgenode

import (
	"io"

	"github.com/edgelab/edgelab/sandbox"
)

// newDefaultRunner builds the runner used when Config.Runner is nil: a
// sandbox.Manager re-executing the calling binary as workers (its main must
// call sandbox.MaybeRunWorker first). fetchFault is the chaos hook asked
// before every invocation (Node.FetchFault).
func newDefaultRunner(cfg Config, fetchFault func(sandbox.Invocation) sandbox.FetchFault) (sandbox.Runner, io.Closer, error) {
	m, err := sandbox.NewManager(sandbox.ManagerConfig{Profile: cfg.Profile, Logger: cfg.Logger, FetchFault: fetchFault, MemoryCgroup: cfg.MemoryCgroup, IsolateNetwork: !cfg.ShareWorkerNetwork})
	if err != nil {
		return nil, nil, err
	}
	return m, m, nil
}
