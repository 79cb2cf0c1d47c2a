// Command etcd is the upstream etcd server built from the pinned go.etcd.io/etcd/server/v3 module,
// wrapped because the etcd root module (which holds the upstream main) has replace directives.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
