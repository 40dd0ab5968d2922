package chaosctl

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgelab/edgelab/chaos/compose"
)

// containerCmd is `chaos container ...`: faults at container level in the
// compose lab, done on this host with docker (and nsenter + tc for netem),
// without going through the control plane.
func containerCmd(out io.Writer, newDocker func(project string) *compose.Docker) *cobra.Command {
	var project string
	root := &cobra.Command{
		Use:   "container",
		Short: "Container-level faults in the compose lab (docker, netem)",
		Long: `Act on the compose lab's containers from this host. Targets name services the
same way as the fault API: node:<edge id>, controlplane:<id>, etcd:<member>,
origin:<id>, gateway.

  stop|kill|start|pause|unpause TARGET   docker <verb> on the target's container
  disconnect|connect TARGET              docker network disconnect/connect (the lab network)
  netem TARGET --latency D [--loss F]    tc netem delay/loss inside the container's
                                         network namespace (needs tc and nsenter on the host)
  clear-netem TARGET                     remove the netem qdisc

These faults are not stored by the control plane: heal them with the reverse
verb (start, unpause, connect, clear-netem).`,
		Example: `  edgectl chaos container kill node:use1-a
  edgectl chaos container netem node:apne1-a --latency 300ms --loss 0.05
  edgectl chaos container clear-netem node:apne1-a
  edgectl chaos container disconnect controlplane:cp1 && edgectl chaos container connect controlplane:cp1`,
	}
	root.PersistentFlags().StringVar(&project, "compose-project", "", "compose project name (default: any project)")
	verb := func(v string) *cobra.Command {
		return &cobra.Command{
			Use:   v + " TARGET",
			Short: "docker " + v + " the target's container",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := newDocker(project).Act(cmd.Context(), v, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(out, "%s %s\n", v, args[0])
				return nil
			},
		}
	}
	for _, v := range []string{"stop", "kill", "start", "pause", "unpause"} {
		root.AddCommand(verb(v))
	}
	for _, v := range []string{"disconnect", "connect"} {
		connect := v == "connect"
		name := v
		root.AddCommand(&cobra.Command{
			Use:   name + " TARGET",
			Short: "docker network " + name + " the target's container from the lab network",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := newDocker(project).Disconnect(cmd.Context(), args[0], connect); err != nil {
					return err
				}
				fmt.Fprintf(out, "%s %s\n", name, args[0])
				return nil
			},
		})
	}
	var latency time.Duration
	var loss float64
	netem := &cobra.Command{
		Use:   "netem TARGET",
		Short: "Add delay and/or loss to the target container's network (tc netem)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if latency <= 0 && loss <= 0 {
				return fmt.Errorf("netem: give --latency and/or --loss")
			}
			if loss < 0 || loss > 1 {
				return fmt.Errorf("netem: --loss %v: want a fraction 0..1", loss)
			}
			if err := newDocker(project).Netem(cmd.Context(), args[0], latency, loss); err != nil {
				return err
			}
			fmt.Fprintf(out, "netem %s latency %s loss %.2f\n", args[0], latency, loss)
			return nil
		},
	}
	netem.Flags().DurationVar(&latency, "latency", 0, "added one-way delay")
	netem.Flags().Float64Var(&loss, "loss", 0, "packet loss fraction 0..1")
	root.AddCommand(netem, &cobra.Command{
		Use:   "clear-netem TARGET",
		Short: "Remove the netem qdisc from the target container",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := newDocker(project).ClearNetem(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(out, "clear-netem %s\n", args[0])
			return nil
		},
	})
	return root
}
