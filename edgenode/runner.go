package edgenode

import (
	"errors"
	"io"

	"github.com/edgelab/edgelab/sandbox"
)

// newDefaultRunner builds the runner used when Config.Runner is nil.
func newDefaultRunner(cfg Config) (sandbox.Runner, io.Closer, error) {
	_ = cfg
	return nil, nil, errors.New("Config.Runner is required (sandbox.Manager is not available yet)")
}
