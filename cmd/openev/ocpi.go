package main

import (
	"io"

	"github.com/spf13/cobra"
)

// newOCPICmd is `openev ocpi`, an OCPI 2.2.1 client for integrating with peers.
func newOCPICmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ocpi",
		Short: "OCPI 2.2.1 client: discover a peer's versions and endpoints, get, list, put, patch and delete objects",
	}
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	return cmd
}
