// Command edgectl is the edgelab user CLI: functions, versions,
// distributions, invalidations and invoke against a control plane.
// See `edgectl --help`.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/edgelab/edgelab/cmd/edgectl/ctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := ctl.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
