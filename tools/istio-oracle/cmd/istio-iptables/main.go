// Command istio-iptables is Istio's own iptables program, built from the pinned
// istio.io/istio module: the same cobra command that istio-init runs as
// `pilot-agent istio-iptables` (pilot/cmd/pilot-agent/app/cmd.go adds
// tools/istio-iptables/pkg/cmd.GetCommand). The mesh lab writes each pod's nat
// table with it, so capture rules come from Istio, not from us.
package main

import (
	"os"

	"istio.io/istio/pkg/log"
	iptables "istio.io/istio/tools/istio-iptables/pkg/cmd"
)

func main() {
	if err := iptables.GetCommand(log.DefaultOptions()).Execute(); err != nil {
		os.Exit(1)
	}
}
