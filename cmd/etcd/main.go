// Command etcd is etcd's own server, built from its Go module so the lab's
// container images need no downloaded etcd release. Flags and environment
// variables are etcd's (see `etcd --help`).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
