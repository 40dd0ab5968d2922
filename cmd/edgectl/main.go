// Command edgectl is the edgelab user CLI: functions, versions,
// distributions, invalidations, invoke, status, nodes, logs (functions'
// and the PoPs' CloudFront access logs) and chaos
// against a control plane. See `edgectl --help`.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/edgelab/edgelab/chaos/chaosctl"
	"github.com/edgelab/edgelab/cmd/edgectl/ctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	var chaosCmd *cobra.Command
	chaosCmd = chaosctl.NewCommand(func() (*grpc.ClientConn, error) {
		return ctl.DialCommand(chaosCmd)
	}, os.Stdout)
	code := ctl.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr, chaosCmd)
	stop()
	os.Exit(code)
}
