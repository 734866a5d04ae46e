package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/openev/openev/sim/load"
	"github.com/openev/openev/sim/load/target"
	"github.com/spf13/cobra"
)

// newSimTargetCmd is `openev sim-target`, hidden: a CSMS that accepts every
// station and answers every station-initiated message of OCPP 1.6 and 2.0.1
// with a valid "yes". The simulator's benchmark and tests drive it; it is
// not a CSMS (`openev serve` will be).
func newSimTargetCmd(stdout, stderr io.Writer) *cobra.Command {
	var addr string
	var interval time.Duration
	cmd := &cobra.Command{
		Use:    "sim-target",
		Short:  "Run an accept-all OCPP server for simulator benchmarks and tests",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := load.RaiseFileLimit(); err != nil {
				fmt.Fprintln(stderr, "openev sim-target: cannot raise the open-file limit:", err)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("sim-target: %w", err)
			}
			srv := target.NewServer(interval, nil)
			mux := http.NewServeMux()
			mux.Handle("/ocpp/", srv)
			hs := &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second}
			go hs.Serve(ln)
			fmt.Fprintf(stdout, "listening ws://%s/ocpp pid %d\n", ln.Addr(), os.Getpid())
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			hs.Close()
			return srv.Shutdown(sctx)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8180", "address to listen on")
	cmd.Flags().DurationVar(&interval, "heartbeat-interval", 300*time.Second, "heartbeat interval in BootNotification answers")
	return cmd
}
