// Package target is an accept-all CSMS: it accepts every station and
// answers every message a station sends, in OCPP 1.6 and 2.0.1, with a valid
// positive answer. The simulator's tests and benchmarks run against it
// (`openev sim-target`); it is not a CSMS (`openev serve` is).
package target

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/openev/openev/ocpp"
)

// NewServer returns an ocpp.Server that accepts every station (any
// identity, no password) and answers as Router does; log nil logs nothing.
func NewServer(interval time.Duration, log *slog.Logger) *ocpp.Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ocpp.Server{Handler: Router(interval), Options: ocpp.Options{Logger: log}}
}

// Router answers what a station sends, in OCPP 1.6 and 2.0.1, with
// schema-valid positive answers: boots are accepted, tokens authorized,
// transactions numbered from 1.
func Router(interval time.Duration) *ocpp.Router {
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
