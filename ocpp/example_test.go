package ocpp_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v201"
)

// A CSMS that answers BootNotification, a station that boots at it, and a
// Reset sent back from the CSMS to the station, all in OCPP 2.0.1 over a
// real websocket.
func Example() {
	csms := ocpp.NewRouter()
	ocpp.Handle(csms, func(ctx context.Context, c *ocpp.Conn, req *v201.BootNotificationRequest) (*v201.BootNotificationResponse, error) {
		fmt.Printf("CSMS: %s boots, model %s\n", c.ID(), req.ChargingStation.Model)
		return &v201.BootNotificationResponse{
			CurrentTime: time.Now().UTC(), Interval: 300, Status: v201.RegistrationStatusEnumAccepted,
		}, nil
	})
	srv := &ocpp.Server{Handler: csms}
	hs := httptest.NewServer(srv)
	defer hs.Close()

	station := ocpp.NewRouter()
	ocpp.Handle(station, func(ctx context.Context, c *ocpp.Conn, req *v201.ResetRequest) (*v201.ResetResponse, error) {
		return &v201.ResetResponse{Status: v201.ResetStatusEnumScheduled}, nil
	})
	ctx := context.Background()
	conn, err := (&ocpp.Dialer{}).Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/ocpp", "CS1", station)
	if err != nil {
		panic(err)
	}
	boot, err := ocpp.Call(ctx, conn, &v201.BootNotificationRequest{
		Reason:          v201.BootReasonEnumPowerUp,
		ChargingStation: v201.ChargingStation{VendorName: "openEV", Model: "Sim"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("station: boot", boot.Status)

	cs, _ := srv.Conn("CS1")
	reset, err := ocpp.Call(ctx, cs, &v201.ResetRequest{Type: v201.ResetEnumOnIdle})
	if err != nil {
		panic(err)
	}
	fmt.Println("CSMS: reset", reset.Status)
	conn.Close(1000, "done")
	// Output:
	// CSMS: CS1 boots, model Sim
	// station: boot Accepted
	// CSMS: reset Scheduled
}
