package controlplane

import (
	"context"

	"github.com/edgelab/edgelab/store/embedded"
)

// StartEmbeddedEtcd runs a single-member etcd with its data in dir, on
// loopback ports it picks, for tests and the lab. endpoints can be given to
// other Servers as Config.EtcdEndpoints; stop stops the member (idempotent).
func StartEmbeddedEtcd(ctx context.Context, dir string) (endpoints []string, stop func(), err error) {
	e, err := embedded.Start(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	return e.Endpoints(), e.Close, nil
}
