// Command ocpp-server is the seed's OcppExample on the public ocpp package:
// one agent, the station "CS1", reachable at /cso/ocpp/CS1 (and /ocpp/CS1),
// that answers BootNotification and Heartbeat in OCPP 2.0.1 and 1.6 and
// refuses every other action with a CALLERROR. Any other identity is refused.
//
//	go run ./examples/ocpp-server -addr 127.0.0.1:8080 -heartbeat-interval 300s
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v16"
	"github.com/openev/openev/ocpp/v201"
)

// agentID is the one station this server knows, as in the seed.
const agentID = "CS1"

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	interval := flag.Duration("heartbeat-interval", 300*time.Second, "heartbeat interval sent in BootNotification answers")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	srv := &ocpp.Server{
		Handler:      newAgent(*interval),
		Authenticate: onlyAgent,
		Options:      ocpp.Options{Logger: log},
	}
	mux := http.NewServeMux()
	mux.Handle("/cso/ocpp/", srv)
	mux.Handle("/ocpp/", srv)
	hs := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
		hs.Shutdown(shutdown)
	}()
	log.Info("OCPP example server listening", "url", "ws://"+*addr+"/cso/ocpp/"+agentID, "heartbeat_interval", *interval)
	if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("cannot serve", "addr", *addr, "err", err)
		os.Exit(1)
	}
}

// onlyAgent refuses every identity but the agent's.
func onlyAgent(ctx context.Context, h *ocpp.Handshake) error {
	if h.Identity != agentID {
		return &ocpp.RefuseError{Status: http.StatusNotFound, Reason: "unknown station " + h.Identity}
	}
	return nil
}

// newAgent answers BootNotification and Heartbeat in both versions; the
// router answers every other action NotSupported (or NotImplemented if the
// version does not know it).
func newAgent(interval time.Duration) *ocpp.Router {
	secs := int(interval / time.Second)
	r := ocpp.NewRouter()
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.BootNotificationRequest) (*v201.BootNotificationResponse, error) {
		c.Logger().Info("boot", "vendor", req.ChargingStation.VendorName, "model", req.ChargingStation.Model, "reason", req.Reason)
		return &v201.BootNotificationResponse{CurrentTime: now(), Interval: secs, Status: v201.RegistrationStatusEnumAccepted}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v201.HeartbeatRequest) (*v201.HeartbeatResponse, error) {
		return &v201.HeartbeatResponse{CurrentTime: now()}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.BootNotificationRequest) (*v16.BootNotificationResponse, error) {
		c.Logger().Info("boot", "vendor", req.ChargePointVendor, "model", req.ChargePointModel)
		return &v16.BootNotificationResponse{CurrentTime: now(), Interval: secs, Status: "Accepted"}, nil
	})
	ocpp.Handle(r, func(ctx context.Context, c *ocpp.Conn, req *v16.HeartbeatRequest) (*v16.HeartbeatResponse, error) {
		return &v16.HeartbeatResponse{CurrentTime: now()}, nil
	})
	return r
}

func now() time.Time { return time.Now().UTC().Truncate(time.Second) }
