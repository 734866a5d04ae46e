package csms

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"

	"github.com/openev/openev/ocpp"
)

// A station that the CSMS has not accepted — its BootNotification was
// answered Pending or Rejected, or it is registered so and has not booted
// since — may not start charging: its Authorize, 1.6 StartTransaction and
// 2.0.1 TransactionEvent Started get a SecurityError (OCPP 2.0.1 B02.FR.09
// and B03.FR.07 answer a pending or rejected station's unsolicited calls
// so). Everything else is still served, so that what a pending station is
// asked for (reports, statuses) and the rest of a transaction that ran
// before (its meter values and its stop) are not lost. The state is the
// connection's, as the station last learnt it: an operator's change of a
// station's registration takes effect at its next BootNotification.

// connState is what the CSMS keeps on a station's connection (ocpp.Conn.Data).
type connState struct {
	registration atomic.Value // Registration
}

func stateOf(c *ocpp.Conn) *connState {
	st, _ := c.Data().(*connState)
	return st
}

// setRegistration records what the station was told.
func setRegistration(c *ocpp.Conn, r Registration) {
	if st := stateOf(c); st != nil {
		st.registration.Store(r)
	}
}

// mayCharge reports whether the station on c has been accepted; a
// connection without a known registration may.
func mayCharge(c *ocpp.Conn) (Registration, bool) {
	st := stateOf(c)
	if st == nil {
		return "", true
	}
	r, _ := st.registration.Load().(Registration)
	return r, r == "" || r == RegistrationAccepted
}

// startsCharging reports whether a call would start charging.
func startsCharging(action string, payload json.RawMessage) bool {
	switch action {
	case "Authorize", "StartTransaction":
		return true
	case "TransactionEvent":
		var ev struct {
			EventType string `json:"eventType"`
		}
		return json.Unmarshal(payload, &ev) != nil || ev.EventType == "Started"
	}
	return false
}

// guardUnaccepted wraps h with the rule above.
func guardUnaccepted(h ocpp.Handler) ocpp.Handler {
	return ocpp.HandlerFunc(func(ctx context.Context, c *ocpp.Conn, action string, payload json.RawMessage) (any, error) {
		if reg, ok := mayCharge(c); !ok && startsCharging(action, payload) {
			return nil, &ocpp.Error{Code: ocpp.SecurityError,
				Description: fmt.Sprintf("station registration is %s: %s is refused until a BootNotification is accepted", reg, action)}
		}
		return h.ServeOCPP(ctx, c, action, payload)
	})
}
