// Command pilot-agent is the mesh lab's stand-in for Istio's pilot-agent in a
// sidecar: only its `request` sub-command, which mesh-doctor uses to reach
// Envoy's admin API (`pilot-agent request GET config_dump`). The request itself
// is Istio's own code (pilot/pkg/request.Command); the command's flags, allowed
// ports, SilenceUsage and exit status (-1, i.e. 255) are those of
// pilot/cmd/pilot-agent/app (request.go, cmd.go) and pilot/cmd/pilot-agent/main.go.
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"istio.io/istio/pilot/pkg/request"
)

func main() {
	debugPort := int32(15000)
	allowed := map[int32]bool{15000: true, 15004: true, 15020: true, 15021: true}
	requestCmd := &cobra.Command{
		Use:   "request <method> <path> [<body>]",
		Short: "Makes an HTTP request to the Envoy admin API",
		Args:  cobra.MinimumNArgs(2),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if !allowed[debugPort] {
				return fmt.Errorf("debug port %d is not in allowed list [15000 15004 15020 15021]", debugPort)
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			command := &request.Command{Address: fmt.Sprintf("localhost:%d", debugPort), Client: &http.Client{Timeout: 60 * time.Second}}
			body := ""
			if len(args) >= 3 {
				body = args[2]
			}
			return command.Do(args[0], args[1], body)
		},
	}
	requestCmd.PersistentFlags().Int32Var(&debugPort, "debug-port", debugPort, "Set the port to make a local request to. The default points to the Envoy admin API.")
	root := &cobra.Command{Use: "pilot-agent", Short: "Istio Pilot agent.", SilenceUsage: true}
	root.AddCommand(requestCmd)
	if err := root.Execute(); err != nil {
		os.Exit(-1)
	}
}
