package interop_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openev/openev/api"
	"github.com/openev/openev/csms"
	"github.com/openev/openev/internal/testdb"
	"github.com/openev/openev/interop/peer"
	"github.com/openev/openev/ocpp"
)

// startCSMSApp runs the whole CSMS (service, store, API) for the independent
// station to talk to; it returns the OCPP endpoint and the API's base URL.
func startCSMSApp(t *testing.T, st csms.Store) (wsURL, apiURL string) {
	t.Helper()
	svc := csms.New(st, csms.Config{AcceptUnknownTokens: true})
	srv := &ocpp.Server{}
	svc.Mount(srv)
	a, err := api.New(st, srv, api.Options{APIKey: "interop-key"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", a)
	url := startCSMS(t, srv) // serves /ocpp/ on its own test server
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return url, hs.URL
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// A whole charging session from the strict independent station, in both
// versions and on both databases: its validation of every answer is the
// check that the CSMS speaks the schemas; the stored transaction is the
// check that the CSMS understood it.
func TestCSMSWithTheirStrictStationThroughAChargingSession(t *testing.T) {
	peer.Require(t)
	for _, b := range testdb.Backends {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			ws, _ := startCSMSApp(t, st)
			ctx := testCtx(t)
			call := func(cl *peer.Client, action string, payload any) json.RawMessage {
				t.Helper()
				res, rpcErr, err := cl.Call(ctx, action, payload)
				if err != nil || rpcErr != nil {
					t.Fatalf("%s: %v %v", action, rpcErr, err)
				}
				return res
			}
			start := time.Now().Add(-time.Hour)

			v16 := startStrictClient(t, ws, "RPC16", "ocpp1.6")
			call(v16, "BootNotification", map[string]any{"chargePointVendor": "V", "chargePointModel": "M"})
			call(v16, "StatusNotification", map[string]any{"connectorId": 1, "errorCode": "NoError", "status": "Preparing"})
			call(v16, "Authorize", map[string]any{"idTag": "RFID-16"})
			var started struct{ TransactionID int }
			json.Unmarshal(call(v16, "StartTransaction", map[string]any{"connectorId": 1, "idTag": "RFID-16", "meterStart": 500, "timestamp": rfc3339(start)}), &started)
			call(v16, "MeterValues", map[string]any{"connectorId": 1, "transactionId": started.TransactionID, "meterValue": []any{
				map[string]any{"timestamp": rfc3339(start.Add(30 * time.Minute)), "sampledValue": []any{map[string]any{"value": "2.5", "unit": "kWh"}}}}})
			call(v16, "StopTransaction", map[string]any{"transactionId": started.TransactionID, "meterStop": 4500, "timestamp": rfc3339(start.Add(time.Hour)), "reason": "Local"})
			tx, err := st.Transaction(ctx, int64(started.TransactionID))
			if err != nil || tx.Status != csms.TransactionFinished || tx.EnergyWh != 4000 {
				t.Fatalf("1.6 transaction: %+v %v", tx, err)
			}
			// Its offline queue sends the start again after a reconnect, then a
			// late second stop: the same transactionId, nothing changed.
			var replayed struct{ TransactionID int }
			json.Unmarshal(call(v16, "StartTransaction", map[string]any{"connectorId": 1, "idTag": "RFID-16", "meterStart": 500, "timestamp": rfc3339(start)}), &replayed)
			if replayed.TransactionID != started.TransactionID {
				t.Errorf("replayed StartTransaction got transaction %d, want %d", replayed.TransactionID, started.TransactionID)
			}
			call(v16, "StopTransaction", map[string]any{"transactionId": started.TransactionID, "meterStop": 9999, "timestamp": rfc3339(start.Add(2 * time.Hour))})
			if tx, err := st.Transaction(ctx, int64(started.TransactionID)); err != nil || tx.EnergyWh != 4000 || tx.StopReason != "Local" {
				t.Errorf("1.6 transaction after the replays: %+v %v", tx, err)
			}

			v201 := startStrictClient(t, ws, "RPC201", "ocpp2.0.1")
			call(v201, "BootNotification", map[string]any{"reason": "PowerUp", "chargingStation": map[string]any{"vendorName": "V", "model": "M"}})
			call(v201, "StatusNotification", map[string]any{"timestamp": rfc3339(start), "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1})
			event := func(typ string, seq int, at time.Time, wh float64, extra map[string]any) map[string]any {
				e := map[string]any{"eventType": typ, "seqNo": seq, "timestamp": rfc3339(at), "triggerReason": "MeterValuePeriodic",
					"transactionInfo": map[string]any{"transactionId": "rpc-tx-1"},
					"meterValue":      []any{map[string]any{"timestamp": rfc3339(at), "sampledValue": []any{map[string]any{"value": wh}}}}}
				for k, v := range extra {
					e[k] = v
				}
				return e
			}
			res := call(v201, "TransactionEvent", event("Started", 0, start, 100, map[string]any{
				"triggerReason": "Authorized", "evse": map[string]any{"id": 1, "connectorId": 1},
				"idToken": map[string]any{"idToken": "APP-201", "type": "Central"}}))
			if !strings.Contains(string(res), `"Accepted"`) {
				t.Fatalf("Started with an idToken must be answered with idTokenInfo: %s", res)
			}
			// Out of order, as an offline queue may deliver: the Ended before
			// the Updated, and the Updated twice.
			call(v201, "TransactionEvent", event("Ended", 2, start.Add(time.Hour), 6100, map[string]any{
				"triggerReason": "EVDeparted", "transactionInfo": map[string]any{"transactionId": "rpc-tx-1", "stoppedReason": "EVDisconnected"}}))
			call(v201, "TransactionEvent", event("Updated", 1, start.Add(30*time.Minute), 3100, map[string]any{"offline": true}))
			call(v201, "TransactionEvent", event("Updated", 1, start.Add(30*time.Minute), 3100, map[string]any{"offline": true}))
			tx, err = st.TransactionByStationTxID(ctx, "RPC201", "rpc-tx-1")
			if err != nil || tx.Status != csms.TransactionFinished || tx.EnergyWh != 6000 || tx.StopReason != "EVDisconnected" || tx.LastSeqNo != 2 {
				t.Fatalf("2.0.1 transaction: %+v %v", tx, err)
			}
			if evs, err := st.TransactionEvents(ctx, tx.ID); err != nil || len(evs) != 3 {
				t.Errorf("2.0.1 events stored: %d (%v), want 3", len(evs), err)
			}
		})
	}
}

// Every version-neutral command of the admin API reaches the strict
// independent station, in both versions and on both databases, as a message
// its schema validation accepts, and its answer comes back. Only remote-stop
// is left out: it needs a running transaction (the API tests cover it).
func TestAPICommandsReachTheirStrictStation(t *testing.T) {
	peer.Require(t)
	common := []struct{ command, body, action16, action201 string }{
		{"remote-start", `{"id_token":"T1","evse":1}`, "RemoteStartTransaction", "RequestStartTransaction"},
		{"reset", `{"type":"soft"}`, "Reset", "Reset"},
		{"change-availability", `{"evse":1,"available":false}`, "ChangeAvailability", "ChangeAvailability"},
		{"unlock-connector", `{"evse":1}`, "UnlockConnector", "UnlockConnector"},
		{"trigger-message", `{"message":"Heartbeat"}`, "TriggerMessage", "TriggerMessage"},
		{"clear-cache", `{}`, "ClearCache", "ClearCache"},
		{"data-transfer", `{"vendor_id":"ACME","message_id":"hello","data":"42"}`, "DataTransfer", "DataTransfer"},
		{"set-charging-profile", `{"evse":1,"profile":{"id":7,"stack_level":1,"purpose":"tx-default",` +
			`"schedule":{"unit":"A","periods":[{"start":0,"limit":16},{"start":3600,"limit":8}]}}}`, "SetChargingProfile", "SetChargingProfile"},
		{"clear-charging-profile", `{"id":7}`, "ClearChargingProfile", "ClearChargingProfile"},
		{"get-composite-schedule", `{"evse":1,"duration":3600,"unit":"W"}`, "GetCompositeSchedule", "GetCompositeSchedule"},
		{"reserve-now", `{"reservation_id":3,"id_token":"T1","expires_at":"` + rfc3339(time.Now().Add(time.Hour)) + `","evse":1}`, "ReserveNow", "ReserveNow"},
		{"cancel-reservation", `{"reservation_id":3}`, "CancelReservation", "CancelReservation"},
		{"update-firmware", `{"location":"https://firmware.example/fw-2.bin","retries":2}`, "UpdateFirmware", "UpdateFirmware"},
		{"get-log", `{"location":"https://upload.example/logs"}`, "GetDiagnostics", "GetLog"},
		{"send-local-list", `{"version":2,"all":true}`, "SendLocalList", "SendLocalList"},
		{"get-local-list-version", `{}`, "GetLocalListVersion", "GetLocalListVersion"},
	}
	only := []struct{ protocol, command, body, action string }{
		{"ocpp1.6", "get-configuration", `{"keys":["HeartbeatInterval"]}`, "GetConfiguration"},
		{"ocpp1.6", "change-configuration", `{"key":"HeartbeatInterval","value":"60"}`, "ChangeConfiguration"},
		{"ocpp2.0.1", "get-variables", `{"variables":[{"component":"OCPPCommCtrlr","variable":"HeartbeatInterval"}]}`, "GetVariables"},
		{"ocpp2.0.1", "set-variables", `{"variables":[{"component":"OCPPCommCtrlr","variable":"HeartbeatInterval","value":"60"}]}`, "SetVariables"},
	}
	for _, b := range testdb.Backends {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			if err := st.SaveToken(testCtx(t), csms.IDToken{ID: "T1", Status: csms.TokenAccepted}); err != nil {
				t.Fatal(err)
			}
			ws, apiURL := startCSMSApp(t, st)
			for _, protocol := range []string{"ocpp1.6", "ocpp2.0.1"} {
				id := "RPC-" + strings.ReplaceAll(protocol, ".", "")
				cl := startStrictClient(t, ws, id, protocol)
				waitAPIConnected(t, apiURL, id)
				send := func(command, body, action string) {
					t.Helper()
					req, _ := http.NewRequest("POST", apiURL+"/api/v1/stations/"+id+"/commands/"+command, strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer interop-key")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					var out struct {
						Action   string
						Response map[string]any
						Error    string
					}
					json.NewDecoder(resp.Body).Decode(&out)
					resp.Body.Close()
					if resp.StatusCode != 200 || out.Action != action || out.Response == nil {
						t.Errorf("%s %s: %d %+v", protocol, command, resp.StatusCode, out)
						return
					}
					if _, err := cl.WaitEvent(testCtx(t), func(e peer.Event) bool { return e.Type == "call" && e.Action == action }); err != nil {
						t.Errorf("%s never received %s: %v", id, action, err)
					}
				}
				for _, c := range common {
					send(c.command, c.body, map[string]string{"ocpp1.6": c.action16, "ocpp2.0.1": c.action201}[protocol])
				}
				for _, c := range only {
					if c.protocol == protocol {
						send(c.command, c.body, c.action)
					}
				}
				cl.Close()
			}
		})
	}
}

// waitAPIConnected waits until the API shows the station connected: the
// station sees its websocket open a moment before the CSMS has registered it.
func waitAPIConnected(t *testing.T, apiURL, id string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		req, _ := http.NewRequest("GET", apiURL+"/api/v1/stations/"+id, nil)
		req.Header.Set("Authorization", "Bearer interop-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		var st struct{ Connected bool }
		json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if st.Connected {
			return
		}
	}
	t.Fatalf("%s never shown connected", id)
}
