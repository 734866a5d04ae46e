package csms_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/internal/testdb"
	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v16"
	"github.com/openev/openev/ocpp/v201"
)

// harness is a CSMS on a real SQLite store behind a real websocket server.
type harness struct {
	store csms.Store
	svc   *csms.Service
	srv   *ocpp.Server
	url   string
}

func newHarness(t *testing.T, st csms.Store, cfg csms.Config) *harness {
	t.Helper()
	svc := csms.New(st, cfg)
	srv := &ocpp.Server{Options: ocpp.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	svc.Mount(srv)
	mux := http.NewServeMux()
	mux.Handle("/ocpp/", srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(c)
		hs.Close()
	})
	return &harness{store: st, svc: svc, srv: srv, url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ocpp"}
}

// onBothStores runs test once on SQLite and once on PostgreSQL; newH makes
// a harness on the store of the run.
func onBothStores(t *testing.T, test func(t *testing.T, newH func(csms.Config) *harness)) {
	for _, b := range testdb.Backends {
		t.Run(b.Name, func(t *testing.T) {
			test(t, func(cfg csms.Config) *harness { return newHarness(t, b.Open(t), cfg) })
		})
	}
}

func (h *harness) dial(t *testing.T, id string, v ocpp.Version, password string) *ocpp.Conn {
	t.Helper()
	d := &ocpp.Dialer{Versions: []ocpp.Version{v}, Password: password}
	c, err := d.Dial(context.Background(), h.url, id, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", id, err)
	}
	t.Cleanup(func() { c.Close(1000, "") })
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestOCPP16ChargingSessionIsRecordedAndReplaysChangeNothing(t *testing.T) {
	onBothStores(t, func(t *testing.T, newH func(csms.Config) *harness) {
		h := newH(csms.Config{HeartbeatInterval: 120 * time.Second})
		c := ctx(t)
		if err := h.store.SaveToken(c, csms.IDToken{ID: "TAG-OK", Status: csms.TokenAccepted}); err != nil {
			t.Fatal(err)
		}
		st := h.dial(t, "CS16", ocpp.V16, "")

		boot, err := ocpp.Call(c, st, &v16.BootNotificationRequest{ChargePointVendor: "ACME", ChargePointModel: "X1", FirmwareVersion: "1.2"})
		if err != nil || boot.Status != "Accepted" || boot.Interval != 120 {
			t.Fatalf("boot: %+v %v", boot, err)
		}
		station, err := h.store.Station(c, "CS16")
		if err != nil || station.Vendor != "ACME" || station.Model != "X1" || station.Protocol != "ocpp1.6" || !station.Online {
			t.Fatalf("station record: %+v %v", station, err)
		}
		auth, err := ocpp.Call(c, st, &v16.AuthorizeRequest{IDTag: "tag-ok"}) // tokens ignore case
		if err != nil || auth.IDTagInfo.Status != "Accepted" {
			t.Fatalf("authorize known: %+v %v", auth, err)
		}
		auth, err = ocpp.Call(c, st, &v16.AuthorizeRequest{IDTag: "NOBODY"})
		if err != nil || auth.IDTagInfo.Status != "Invalid" {
			t.Fatalf("authorize unknown: %+v %v", auth, err)
		}
		if _, err := ocpp.Call(c, st, &v16.StatusNotificationRequest{ConnectorID: 1, ErrorCode: "NoError", Status: "Charging"}); err != nil {
			t.Fatal(err)
		}
		statuses, _ := h.store.ConnectorStatuses(c, "CS16")
		if len(statuses) != 1 || statuses[0].Status != "Occupied" || statuses[0].Raw != "Charging" {
			t.Fatalf("statuses %+v", statuses)
		}

		start := &v16.StartTransactionRequest{ConnectorID: 1, IDTag: "TAG-OK", MeterStart: 1000, Timestamp: at("2026-11-26T10:00:00Z")}
		started, err := ocpp.Call(c, st, start)
		if err != nil || started.TransactionID <= 0 || started.IDTagInfo.Status != "Accepted" {
			t.Fatalf("start: %+v %v", started, err)
		}
		replay, err := ocpp.Call(c, st, start)
		if err != nil || replay.TransactionID != started.TransactionID {
			t.Fatalf("replayed start got transaction %d, want %d (%v)", replay.TransactionID, started.TransactionID, err)
		}
		txID := started.TransactionID
		mv := &v16.MeterValuesRequest{ConnectorID: 1, TransactionID: &txID, MeterValue: []v16.MeterValue{{
			Timestamp: at("2026-11-26T10:15:00Z"),
			SampledValue: []v16.SampledValue{
				{Value: "3.5", Unit: "kWh", Measurand: "Energy.Active.Import.Register"},
				{Value: "11", Unit: "kW", Measurand: "Power.Active.Import"},
			},
		}}}
		if _, err := ocpp.Call(c, st, mv); err != nil {
			t.Fatal(err)
		}
		// Another message at the same time (a clock-aligned sample beside
		// the periodic one) is not a replay of the first: its value is kept.
		voltage := &v16.MeterValuesRequest{ConnectorID: 1, TransactionID: &txID, MeterValue: []v16.MeterValue{{
			Timestamp:    at("2026-11-26T10:15:00Z"),
			SampledValue: []v16.SampledValue{{Value: "229.5", Unit: "V", Measurand: "Voltage", Context: "Sample.Clock"}},
		}}}
		if _, err := ocpp.Call(c, st, voltage); err != nil {
			t.Fatal(err)
		}
		stop := &v16.StopTransactionRequest{TransactionID: txID, MeterStop: 6000, Timestamp: at("2026-11-26T10:30:00Z"), Reason: "EVDisconnected", IDTag: "TAG-OK"}
		if _, err := ocpp.Call(c, st, stop); err != nil {
			t.Fatal(err)
		}
		late := *stop
		late.MeterStop, late.Timestamp = 9999, at("2026-11-26T11:00:00Z")
		if _, err := ocpp.Call(c, st, &late); err != nil { // a second stop is acknowledged, not applied
			t.Fatal(err)
		}
		tx, err := h.store.Transaction(c, int64(txID))
		if err != nil {
			t.Fatal(err)
		}
		if tx.Status != csms.TransactionFinished || tx.EnergyWh != 5000 || tx.StopReason != "EVDisconnected" ||
			tx.MeterStopWh == nil || *tx.MeterStopWh != 6000 || !tx.StoppedAt.Equal(at("2026-11-26T10:30:00Z")) {
			t.Fatalf("finished transaction %+v", tx)
		}
		values, _ := h.store.MeterValues(c, int64(txID))
		var sawEnergy, sawPower, sawVoltage bool
		for _, v := range values {
			sawEnergy = sawEnergy || v.Measurand == "Energy.Active.Import.Register" && v.Value == 3500 && v.Unit == "Wh" && v.RawUnit == "kWh"
			sawPower = sawPower || v.Measurand == "Power.Active.Import" && v.Value == 11000 && v.Unit == "W"
			sawVoltage = sawVoltage || v.Measurand == "Voltage" && v.Value == 229.5 && v.Context == "Sample.Clock"
		}
		if !sawEnergy || !sawPower {
			t.Fatalf("meter values not normalised: %+v", values)
		}
		if !sawVoltage {
			t.Fatalf("the second MeterValues at the same time was lost: %+v", values)
		}
	})
}

func TestOCPP201TransactionEventsInAnyOrderGiveOneTransaction(t *testing.T) {
	onBothStores(t, func(t *testing.T, newH func(csms.Config) *harness) {
		h := newH(csms.Config{AcceptUnknownTokens: true})
		c := ctx(t)
		st := h.dial(t, "CS201", ocpp.V201, "")
		if _, err := ocpp.Call(c, st, &v201.BootNotificationRequest{Reason: v201.BootReasonEnumPowerUp,
			ChargingStation: v201.ChargingStation{VendorName: "ACME", Model: "Y"}}); err != nil {
			t.Fatal(err)
		}
		wh := func(v float64) []v201.MeterValue {
			return []v201.MeterValue{{Timestamp: at("2026-11-26T10:00:00Z"), SampledValue: []v201.SampledValue{
				{Value: v, Measurand: v201.MeasurandEnumEnergyActiveImportRegister, UnitOfMeasure: &v201.UnitOfMeasure{Unit: "Wh"}}}}}
		}
		one := 1
		token := &v201.IDToken{IDToken: "APP-1", Type: v201.IDTokenEnumCentral}
		events := []*v201.TransactionEventRequest{
			{EventType: v201.TransactionEventEnumStarted, SeqNo: 0, Timestamp: at("2026-11-26T10:00:00Z"), TriggerReason: v201.TriggerReasonEnumAuthorized,
				TransactionInfo: v201.Transaction{TransactionID: "tx-9"}, Evse: &v201.EVSE{ID: 1, ConnectorID: &one}, IDToken: token, MeterValue: wh(100)},
			{EventType: v201.TransactionEventEnumUpdated, SeqNo: 1, Timestamp: at("2026-11-26T10:10:00Z"), TriggerReason: v201.TriggerReasonEnumMeterValuePeriodic,
				TransactionInfo: v201.Transaction{TransactionID: "tx-9"}, MeterValue: wh(2100)},
			{EventType: v201.TransactionEventEnumEnded, SeqNo: 2, Timestamp: at("2026-11-26T10:20:00Z"), TriggerReason: v201.TriggerReasonEnumEVDeparted,
				TransactionInfo: v201.Transaction{TransactionID: "tx-9", StoppedReason: v201.ReasonEnumEVDisconnected}, MeterValue: wh(4100)},
		}
		// The Ended event overtakes the Updated one, and Started is replayed.
		for _, i := range []int{0, 2, 1, 0} {
			resp, err := ocpp.Call(c, st, events[i])
			if err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			if events[i].IDToken != nil && (resp.IDTokenInfo == nil || resp.IDTokenInfo.Status != v201.AuthorizationStatusEnumAccepted) {
				t.Fatalf("event with idToken must be answered with idTokenInfo: %+v", resp)
			}
		}
		tx, err := h.store.TransactionByStationTxID(c, "CS201", "tx-9")
		if err != nil {
			t.Fatal(err)
		}
		if tx.Status != csms.TransactionFinished || tx.EnergyWh != 4000 || tx.EVSE != 1 || tx.Connector != 1 ||
			tx.IDToken != "APP-1" || tx.StopReason != "EVDisconnected" || tx.LastSeqNo != 2 || !tx.StartedAt.Equal(at("2026-11-26T10:00:00Z")) {
			t.Fatalf("transaction %+v", tx)
		}
		evs, _ := h.store.TransactionEvents(c, tx.ID)
		if len(evs) != 3 {
			t.Fatalf("%d events stored, want 3 (the replay changes nothing)", len(evs))
		}
	})
}

// TestEventsKeepThePayloadAsTheStationSentIt: the raw payload stored with
// a transaction event is the station's bytes, not the typed request encoded
// again (which would drop its spacing, order and unknown vendor fields).
func TestEventsKeepThePayloadAsTheStationSentIt(t *testing.T) {
	onBothStores(t, func(t *testing.T, newH func(csms.Config) *harness) {
		h := newH(csms.Config{AcceptUnknownTokens: true})
		c := ctx(t)
		st := h.dial(t, "CSRAW", ocpp.V201, "")
		sent := `{"seqNo": 0, "eventType": "Started", "timestamp": "2026-11-26T10:00:00Z", "triggerReason": "CablePluggedIn",
		  "transactionInfo": {"transactionId": "tx-raw"}, "evse": {"id": 1, "connectorId": 1}}`
		if _, err := st.CallRaw(c, "TransactionEvent", json.RawMessage(sent)); err != nil {
			t.Fatal(err)
		}
		tx, err := h.store.TransactionByStationTxID(c, "CSRAW", "tx-raw")
		if err != nil {
			t.Fatal(err)
		}
		evs, err := h.store.TransactionEvents(c, tx.ID)
		if err != nil || len(evs) != 1 {
			t.Fatalf("events %+v, %v", evs, err)
		}
		if string(evs[0].Raw) != sent {
			t.Fatalf("raw payload stored:\n%s\nwant the bytes sent:\n%s", evs[0].Raw, sent)
		}
	})
}

func TestUnknownStationPolicies(t *testing.T) {
	onBothStores(t, func(t *testing.T, newH func(csms.Config) *harness) {
		h := newH(csms.Config{UnknownStations: csms.RejectUnknown})
		_, err := (&ocpp.Dialer{}).Dial(context.Background(), h.url, "STRANGER", nil)
		var de *ocpp.DialError
		if !errors.As(err, &de) || de.Status != http.StatusNotFound {
			t.Fatalf("reject policy: want 404, got %v", err)
		}

		h = newH(csms.Config{UnknownStations: csms.PendingUnknown})
		c := ctx(t)
		st := h.dial(t, "NEWCOMER", ocpp.V201, "")
		boot, err := ocpp.Call(c, st, &v201.BootNotificationRequest{Reason: v201.BootReasonEnumPowerUp,
			ChargingStation: v201.ChargingStation{VendorName: "V", Model: "M"}})
		if err != nil || boot.Status != v201.RegistrationStatusEnumPending {
			t.Fatalf("pending policy: %+v %v", boot, err)
		}
	})
}

func TestSecurityProfile1NeedsTheStationsPassword(t *testing.T) {
	onBothStores(t, func(t *testing.T, newH func(csms.Config) *harness) {
		h := newH(csms.Config{LoginBackoff: time.Nanosecond}) // no waiting between the attempts here
		c := ctx(t)
		hash, err := csms.HashPassword("correct-horse-battery")
		if err != nil {
			t.Fatal(err)
		}
		if err := h.store.SaveStation(c, csms.Station{ID: "SECURE", SecurityProfile: 1, PasswordHash: hash, Registration: csms.RegistrationAccepted}); err != nil {
			t.Fatal(err)
		}
		_, err = (&ocpp.Dialer{Password: "wrong-password-entirely"}).Dial(c, h.url, "SECURE", nil)
		var de *ocpp.DialError
		if !errors.As(err, &de) || de.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password: want 401, got %v", err)
		}
		if _, err := (&ocpp.Dialer{}).Dial(c, h.url, "SECURE", nil); !errors.As(err, &de) || de.Status != http.StatusUnauthorized {
			t.Fatalf("no password: want 401, got %v", err)
		}
		h.dial(t, "SECURE", ocpp.V201, "correct-horse-battery")
	})
}

// A security profile outside 0–3 is bad input to the store (csms.ErrInvalid)
// and nothing is written, so no station can end up with a profile that
// Authenticate does not know.
func TestStoreRefusesAnUnknownSecurityProfile(t *testing.T) {
	onBothStores(t, func(t *testing.T, newH func(csms.Config) *harness) {
		h := newH(csms.Config{})
		c := ctx(t)
		for _, p := range []int{-1, 4} {
			err := h.store.SaveStation(c, csms.Station{ID: "ODD", SecurityProfile: p, Registration: csms.RegistrationAccepted})
			if !errors.Is(err, csms.ErrInvalid) {
				t.Fatalf("security profile %d: got %v, want csms.ErrInvalid", p, err)
			}
		}
		if _, err := h.store.Station(c, "ODD"); !errors.Is(err, csms.ErrNotFound) {
			t.Fatalf("the refused station was saved: %v", err)
		}
	})
}

func TestPasswordHashesVerifyOnlyTheirPassword(t *testing.T) {
	hash, err := csms.HashPassword("s3cret-s3cret-s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(hash, "s3cret") || !csms.CheckPassword(hash, "s3cret-s3cret-s3cret") || csms.CheckPassword(hash, "s3cret-s3cret-s3creT") {
		t.Fatal("hash check wrong")
	}
	for _, bad := range []string{"", "plain", "pbkdf2-sha256$x$y$z", "pbkdf2-sha256$0$AA$AA"} {
		if csms.CheckPassword(bad, "") {
			t.Fatalf("malformed hash %q accepted", bad)
		}
	}
}

// Password guessing is slowed down: after a failure the identity (and the
// address) must wait, even with the right password, until the delay ends.
func TestFailedLoginsAreSlowedDown(t *testing.T) {
	onBothStores(t, func(t *testing.T, newH func(csms.Config) *harness) {
		var clock atomic.Int64
		clock.Store(time.Now().UnixNano())
		h := newH(csms.Config{LoginBackoff: 10 * time.Second, Now: func() time.Time { return time.Unix(0, clock.Load()) }})
		c := ctx(t)
		hash, _ := csms.HashPassword("the-right-password-1")
		h.store.SaveStation(c, csms.Station{ID: "LOCKED", SecurityProfile: 1, PasswordHash: hash, Registration: csms.RegistrationAccepted})
		var de *ocpp.DialError
		if _, err := (&ocpp.Dialer{Password: "a-wrong-password-xx"}).Dial(c, h.url, "LOCKED", nil); !errors.As(err, &de) || de.Status != 401 {
			t.Fatalf("wrong password: %v", err)
		}
		if _, err := (&ocpp.Dialer{Password: "the-right-password-1"}).Dial(c, h.url, "LOCKED", nil); !errors.As(err, &de) || de.Status != 429 {
			t.Fatalf("right password during the delay: want 429, got %v", err)
		}
		clock.Add(int64(11 * time.Second))
		conn, err := (&ocpp.Dialer{Password: "the-right-password-1"}).Dial(c, h.url, "LOCKED", nil)
		if err != nil {
			t.Fatalf("after the delay: %v", err)
		}
		conn.Close(1000, "")
	})
}

// A 1.6 StopTransaction for a transaction that is not the station's (an id
// it lost, or another station's) is acknowledged and kept on record; the
// other station's transaction is untouched.
func TestOCPP16StopOfAnotherStationsTransactionIsAcknowledgedNotApplied(t *testing.T) {
	onBothStores(t, func(t *testing.T, newH func(csms.Config) *harness) {
		h := newH(csms.Config{AcceptUnknownTokens: true})
		c := ctx(t)
		a, b := h.dial(t, "CSA", ocpp.V16, ""), h.dial(t, "CSB", ocpp.V16, "")
		for _, st := range []*ocpp.Conn{a, b} {
			if _, err := ocpp.Call(c, st, &v16.BootNotificationRequest{ChargePointVendor: "V", ChargePointModel: "M"}); err != nil {
				t.Fatal(err)
			}
		}
		started, err := ocpp.Call(c, a, &v16.StartTransactionRequest{ConnectorID: 1, IDTag: "T", MeterStart: 0, Timestamp: at("2026-11-26T10:00:00Z")})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []int{started.TransactionID, -1} {
			stop := &v16.StopTransactionRequest{TransactionID: id, MeterStop: 500, Timestamp: at("2026-11-26T10:30:00Z")}
			if _, err := ocpp.Call(c, b, stop); err != nil {
				t.Fatalf("stop of transaction %d from another station: %v, want it acknowledged", id, err)
			}
		}
		tx, err := h.store.Transaction(c, int64(started.TransactionID))
		if err != nil || tx.Status != csms.TransactionActive || tx.StationID != "CSA" {
			t.Fatalf("CSA's transaction after CSB's stop: %+v %v", tx, err)
		}
		logged, err := h.store.StationEvents(c, "CSB", "StopTransaction", csms.Page{})
		if err != nil || len(logged) != 2 {
			t.Fatalf("CSB's stops on record: %d (%v), want 2", len(logged), err)
		}
	})
}

// A station not accepted may not start charging (SecurityError, OCPP 2.0.1
// B02.FR.09), yet what it reports is kept; once an operator accepts it, its
// next boot lets it charge.
func TestPendingStationMayNotChargeUntilAccepted(t *testing.T) {
	onBothStores(t, func(t *testing.T, newH func(csms.Config) *harness) {
		h := newH(csms.Config{UnknownStations: csms.PendingUnknown, AcceptUnknownTokens: true})
		c := ctx(t)
		wantSecurityError := func(what string, err error) {
			t.Helper()
			var oe *ocpp.Error
			if !errors.As(err, &oe) || oe.Code != ocpp.SecurityError || !strings.Contains(oe.Description, "Pending") {
				t.Errorf("%s from a pending station: %v, want SecurityError naming the registration", what, err)
			}
		}
		s201 := h.dial(t, "NEW201", ocpp.V201, "")
		boot := &v201.BootNotificationRequest{Reason: v201.BootReasonEnumPowerUp, ChargingStation: v201.ChargingStation{VendorName: "V", Model: "M"}}
		if resp, err := ocpp.Call(c, s201, boot); err != nil || resp.Status != v201.RegistrationStatusEnumPending {
			t.Fatalf("boot: %+v %v", resp, err)
		}
		tok := v201.IDToken{IDToken: "TAG", Type: v201.IDTokenEnumISO14443}
		_, err := ocpp.Call(c, s201, &v201.AuthorizeRequest{IDToken: tok})
		wantSecurityError("Authorize", err)
		started := &v201.TransactionEventRequest{EventType: v201.TransactionEventEnumStarted, Timestamp: at("2026-11-26T10:00:00Z"),
			TriggerReason: v201.TriggerReasonEnumAuthorized, SeqNo: 0, TransactionInfo: v201.Transaction{TransactionID: "TX1"}, IDToken: &tok}
		_, err = ocpp.Call(c, s201, started)
		wantSecurityError("TransactionEvent Started", err)
		if _, err := ocpp.Call(c, s201, &v201.StatusNotificationRequest{Timestamp: at("2026-11-26T10:00:00Z"),
			ConnectorStatus: v201.ConnectorStatusEnumAvailable, EvseID: 1, ConnectorID: 1}); err != nil {
			t.Errorf("StatusNotification from a pending station: %v, want it kept", err)
		}
		if _, err := h.store.TransactionByStationTxID(c, "NEW201", "TX1"); !errors.Is(err, csms.ErrNotFound) {
			t.Errorf("the refused transaction was stored: %v", err)
		}

		s16 := h.dial(t, "NEW16", ocpp.V16, "")
		if resp, err := ocpp.Call(c, s16, &v16.BootNotificationRequest{ChargePointVendor: "V", ChargePointModel: "M"}); err != nil || resp.Status != "Pending" {
			t.Fatalf("1.6 boot: %+v %v", resp, err)
		}
		_, err = ocpp.Call(c, s16, &v16.StartTransactionRequest{ConnectorID: 1, IDTag: "TAG", Timestamp: at("2026-11-26T10:00:00Z")})
		wantSecurityError("StartTransaction", err)

		// The operator accepts NEW201; at its next boot it may charge.
		st, err := h.store.Station(c, "NEW201")
		if err != nil {
			t.Fatal(err)
		}
		st.Registration = csms.RegistrationAccepted
		if err := h.store.SaveStation(c, st); err != nil {
			t.Fatal(err)
		}
		if resp, err := ocpp.Call(c, s201, boot); err != nil || resp.Status != v201.RegistrationStatusEnumAccepted {
			t.Fatalf("boot after acceptance: %+v %v", resp, err)
		}
		if _, err := ocpp.Call(c, s201, started); err != nil {
			t.Fatalf("TransactionEvent Started once accepted: %v", err)
		}
	})
}

// A 1.6 sampled value that is not a number is kept as its raw text and is
// never taken for the energy register: the transaction's energy stays right.
func TestOCPP16ValueThatIsNotANumberIsNoReading(t *testing.T) {
	onBothStores(t, func(t *testing.T, newH func(csms.Config) *harness) {
		h := newH(csms.Config{AcceptUnknownTokens: true})
		c := ctx(t)
		st := h.dial(t, "CSNAN", ocpp.V16, "")
		if _, err := ocpp.Call(c, st, &v16.BootNotificationRequest{ChargePointVendor: "V", ChargePointModel: "M"}); err != nil {
			t.Fatal(err)
		}
		started, err := ocpp.Call(c, st, &v16.StartTransactionRequest{ConnectorID: 1, IDTag: "T", MeterStart: 1000, Timestamp: at("2026-11-26T10:00:00Z")})
		if err != nil {
			t.Fatal(err)
		}
		txID := started.TransactionID
		for i, text := range []string{"n/a", "NaN", "2500"} {
			mv := &v16.MeterValuesRequest{ConnectorID: 1, TransactionID: &txID, MeterValue: []v16.MeterValue{{
				Timestamp:    at("2026-11-26T10:00:00Z").Add(time.Duration(i+1) * time.Minute),
				SampledValue: []v16.SampledValue{{Value: text, Unit: "Wh", Measurand: "Energy.Active.Import.Register"}},
			}}}
			if _, err := ocpp.Call(c, st, mv); err != nil {
				t.Fatalf("MeterValues %q: %v", text, err)
			}
			tx, err := h.store.Transaction(c, int64(txID))
			if err != nil {
				t.Fatal(err)
			}
			want := map[bool]float64{true: 1500, false: 0}[text == "2500"]
			if tx.EnergyWh != want {
				t.Errorf("after %q: energy %v Wh, want %v", text, tx.EnergyWh, want)
			}
		}
		values, err := h.store.MeterValues(c, int64(txID))
		if err != nil || len(values) != 3 || values[0].RawValue != "n/a" || values[0].Unit != "" || values[1].RawValue != "NaN" {
			t.Errorf("values kept: %+v %v", values, err)
		}
	})
}
