// Command kube-apiserver is the upstream kube-apiserver built from a pinned k8s.io/kubernetes module.
// The wrapper exists because `go install k8s.io/kubernetes/cmd/kube-apiserver@version` refuses modules
// whose go.mod has replace directives, and k8s.io/kubernetes replaces every staging module.
package main

import (
	"os"
	_ "time/tzdata"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
