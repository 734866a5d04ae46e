package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/sim/load"
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
			srv := newTargetServer(interval, slog.New(slog.DiscardHandler))
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

// newTargetServer returns an ocpp.Server that accepts every station (any
// identity, no password) and answers as acceptAllRouter does.
func newTargetServer(interval time.Duration, log *slog.Logger) *ocpp.Server {
	return &ocpp.Server{Handler: acceptAllRouter(interval), Options: ocpp.Options{Logger: log}}
}

// acceptAllRouter answers what a station sends, in OCPP 1.6 and 2.0.1, with
// schema-valid positive answers: boots are accepted, tokens authorized,
// transactions numbered from 1.
func acceptAllRouter(interval time.Duration) *ocpp.Router {
	r := ocpp.NewRouter()
	secs := int(interval / time.Second)
	var txID atomic.Int64
	now := func() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }
	fixed := func(v ocpp.Version, action string, answer func(payload json.RawMessage) any) {
		ocpp.HandleRaw(r, v, action, func(_ context.Context, _ *ocpp.Conn, _ string, p json.RawMessage) (any, error) {
			return answer(p), nil
		})
	}
	empty := func(json.RawMessage) any { return struct{}{} }
	accepted := func(json.RawMessage) any { return map[string]any{"status": "Accepted"} }
	boot := func(json.RawMessage) any {
		return map[string]any{"status": "Accepted", "currentTime": now(), "interval": secs}
	}
	heartbeat := func(json.RawMessage) any { return map[string]any{"currentTime": now()} }

	// OCPP 1.6
	idTag := map[string]any{"idTagInfo": map[string]any{"status": "Accepted"}}
	fixed(ocpp.V16, "BootNotification", boot)
	fixed(ocpp.V16, "Heartbeat", heartbeat)
	fixed(ocpp.V16, "Authorize", func(json.RawMessage) any { return idTag })
	fixed(ocpp.V16, "StartTransaction", func(json.RawMessage) any {
		return map[string]any{"transactionId": txID.Add(1), "idTagInfo": map[string]any{"status": "Accepted"}}
	})
	fixed(ocpp.V16, "StopTransaction", func(json.RawMessage) any { return idTag })
	fixed(ocpp.V16, "DataTransfer", accepted)
	fixed(ocpp.V16, "SignCertificate", accepted)
	for _, a := range []string{"StatusNotification", "MeterValues", "DiagnosticsStatusNotification",
		"FirmwareStatusNotification", "SecurityEventNotification", "LogStatusNotification",
		"SignedFirmwareStatusNotification"} {
		fixed(ocpp.V16, a, empty)
	}

	// OCPP 2.0.1
	idToken := map[string]any{"idTokenInfo": map[string]any{"status": "Accepted"}}
	fixed(ocpp.V201, "BootNotification", boot)
	fixed(ocpp.V201, "Heartbeat", heartbeat)
	fixed(ocpp.V201, "Authorize", func(json.RawMessage) any { return idToken })
	fixed(ocpp.V201, "TransactionEvent", func(p json.RawMessage) any {
		var req struct {
			IDToken json.RawMessage `json:"idToken"`
		}
		if json.Unmarshal(p, &req) == nil && req.IDToken != nil {
			return idToken
		}
		return struct{}{}
	})
	for _, a := range []string{"DataTransfer", "SignCertificate", "NotifyEVChargingNeeds", "NotifyEVChargingSchedule"} {
		fixed(ocpp.V201, a, accepted)
	}
	for _, a := range []string{"StatusNotification", "MeterValues", "NotifyReport", "NotifyEvent",
		"SecurityEventNotification", "FirmwareStatusNotification", "LogStatusNotification",
		"NotifyChargingLimit", "ClearedChargingLimit", "ReportChargingProfiles", "NotifyMonitoringReport",
		"NotifyCustomerInformation", "NotifyDisplayMessages", "PublishFirmwareStatusNotification",
		"ReservationStatusUpdate"} {
		fixed(ocpp.V201, a, empty)
	}
	return r
}
