package sim

import (
	"errors"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v16"
	"github.com/openev/openev/ocpp/v201"
)

// TestRemoteStartStop: the server starts a session (the station plugs the
// EV in and starts with the given token) and stops it again.
func TestRemoteStartStop(t *testing.T) {
	bothVersions(t, func(t *testing.T, v ocpp.Version) {
		c := newCSMS(t)
		s := c.station(t, fastSession(v), true)
		conn := c.conn(t, "CS1")
		ctx := testCtx(t)
		if v == ocpp.V16 {
			one := 1
			resp, err := ocpp.Call(ctx, conn, &v16.RemoteStartTransactionRequest{ConnectorID: &one, IDTag: "REMOTE1"})
			if err != nil || resp.Status != v16.RemoteStartStopStatusAccepted {
				t.Fatalf("RemoteStart: %+v %v", resp, err)
			}
		} else {
			resp, err := ocpp.Call(ctx, conn, &v201.RequestStartTransactionRequest{IDToken: v201.IDToken{IDToken: "REMOTE1", Type: v201.IDTokenEnumCentral}, RemoteStartID: 7})
			if err != nil || resp.Status != v201.RequestStartStopStatusEnumAccepted {
				t.Fatalf("RequestStart: %+v %v", resp, err)
			}
		}
		waitFor(t, "transaction", func() bool {
			return s.Snapshot().EVSEs[0].TransactionID != "" && c.count("StartTransaction")+c.count("TransactionEvent") > 0
		})
		snap := s.Snapshot()
		if !snap.EVSEs[0].Plugged {
			t.Error("remote start did not plug the EV in")
		}
		txID := snap.EVSEs[0].TransactionID
		if v == ocpp.V16 {
			start := c.all("StartTransaction")[0].Msg.(*v16.StartTransactionRequest)
			if start.IDTag != "REMOTE1" {
				t.Errorf("start: %+v", start)
			}
			resp, err := ocpp.Call(ctx, conn, &v16.RemoteStopTransactionRequest{TransactionID: 999})
			if err != nil || resp.Status != v16.RemoteStartStopStatusRejected {
				t.Errorf("RemoteStop of an unknown transaction: %+v %v", resp, err)
			}
			resp, err = ocpp.Call(ctx, conn, &v16.RemoteStopTransactionRequest{TransactionID: 101})
			if err != nil || resp.Status != v16.RemoteStartStopStatusAccepted {
				t.Fatalf("RemoteStop: %+v %v", resp, err)
			}
			waitFor(t, "StopTransaction", func() bool { return c.count("StopTransaction") == 1 })
			if stop := c.all("StopTransaction")[0].Msg.(*v16.StopTransactionRequest); stop.Reason != v16.ReasonRemote || stop.TransactionID != 101 {
				t.Errorf("stop: %+v", stop)
			}
		} else {
			ev := c.all("TransactionEvent")[0].Msg.(*v201.TransactionEventRequest)
			if ev.TriggerReason != v201.TriggerReasonEnumRemoteStart || ev.IDToken.IDToken != "REMOTE1" ||
				ev.TransactionInfo.RemoteStartID == nil || *ev.TransactionInfo.RemoteStartID != 7 {
				t.Errorf("started: %+v", ev)
			}
			resp, err := ocpp.Call(ctx, conn, &v201.RequestStopTransactionRequest{TransactionID: txID})
			if err != nil || resp.Status != v201.RequestStartStopStatusEnumAccepted {
				t.Fatalf("RequestStop: %+v %v", resp, err)
			}
			waitFor(t, "Ended", func() bool {
				evs := c.all("TransactionEvent")
				return evs[len(evs)-1].Msg.(*v201.TransactionEventRequest).EventType == v201.TransactionEventEnumEnded
			})
			evs := c.all("TransactionEvent")
			end := evs[len(evs)-1].Msg.(*v201.TransactionEventRequest)
			if end.TriggerReason != v201.TriggerReasonEnumRemoteStop || end.TransactionInfo.StoppedReason != v201.ReasonEnumRemote || end.SeqNo != len(evs)-1 {
				t.Errorf("ended: %+v", end)
			}
		}
		if s.Snapshot().EVSEs[0].TransactionID != "" {
			t.Error("transaction still running")
		}
	})
}

// TestReset: Reset is answered Accepted, then the station drops the
// connection, reconnects and boots again (2.0.1 with reason RemoteReset);
// a running transaction is stopped first.
func TestReset(t *testing.T) {
	bothVersions(t, func(t *testing.T, v ocpp.Version) {
		c := newCSMS(t)
		s := c.station(t, fastSession(v), true)
		ctx := testCtx(t)
		if _, err := s.StartTransaction(ctx, 1, ""); err != nil {
			t.Fatal(err)
		}
		conn := c.conn(t, "CS1")
		if v == ocpp.V16 {
			resp, err := ocpp.Call(ctx, conn, &v16.ResetRequest{Type: v16.ResetTypeHard})
			if err != nil || resp.Status != v16.ResetStatusAccepted {
				t.Fatalf("Reset: %+v %v", resp, err)
			}
		} else {
			resp, err := ocpp.Call(ctx, conn, &v201.ResetRequest{Type: v201.ResetEnumImmediate})
			if err != nil || resp.Status != v201.ResetStatusEnumAccepted {
				t.Fatalf("Reset: %+v %v", resp, err)
			}
		}
		select {
		case <-conn.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the station did not drop its connection")
		}
		waitFor(t, "second boot", func() bool { return c.count("BootNotification") == 2 })
		waitFor(t, "registered", func() bool { return s.Snapshot().Registered && s.Connected() })
		if v == ocpp.V16 {
			stop := c.all("StopTransaction")
			if len(stop) != 1 || stop[0].Msg.(*v16.StopTransactionRequest).Reason != v16.ReasonHardReset {
				t.Errorf("stop before reset: %v", stop)
			}
		} else {
			if r := c.all("BootNotification")[1].Msg.(*v201.BootNotificationRequest); r.Reason != v201.BootReasonEnumRemoteReset {
				t.Errorf("boot reason after reset: %s", r.Reason)
			}
			evs := c.all("TransactionEvent")
			end := evs[len(evs)-1].Msg.(*v201.TransactionEventRequest)
			if end.EventType != v201.TransactionEventEnumEnded || end.TriggerReason != v201.TriggerReasonEnumResetCommand ||
				end.TransactionInfo.StoppedReason != v201.ReasonEnumImmediateReset {
				t.Errorf("ended: %+v", end)
			}
		}
		if c.connects != 2 {
			t.Errorf("%d connections, want 2", c.connects)
		}
	})
}

// TestChargingProfileLimitsPower: a TxProfile of 3.7 kW (or 10 A on three
// phases = 6.9 kW) lowers the measured power to it; clearing it restores
// the EV's maximum.
func TestChargingProfileLimitsPower(t *testing.T) {
	bothVersions(t, func(t *testing.T, v ocpp.Version) {
		c := newCSMS(t)
		s := c.station(t, fastSession(v), true)
		ctx := testCtx(t)
		if _, err := s.StartTransaction(ctx, 1, ""); err != nil {
			t.Fatal(err)
		}
		conn := c.conn(t, "CS1")
		if v == ocpp.V16 {
			resp, err := ocpp.Call(ctx, conn, &v16.SetChargingProfileRequest{ConnectorID: 1, CsChargingProfiles: v16.ChargingProfile{
				ChargingProfileID: 5, StackLevel: 1, ChargingProfilePurpose: v16.ChargingProfilePurposeTxProfile,
				ChargingProfileKind: v16.ChargingProfileKindRelative,
				ChargingSchedule: v16.ChargingSchedule{ChargingRateUnit: v16.ChargingRateUnitW,
					ChargingSchedulePeriod: []v16.ChargingSchedulePeriod{{StartPeriod: 0, Limit: 3700}}},
			}})
			if err != nil || resp.Status != v16.ChargingProfileStatusAccepted {
				t.Fatalf("SetChargingProfile: %+v %v", resp, err)
			}
		} else {
			resp, err := ocpp.Call(ctx, conn, &v201.SetChargingProfileRequest{EvseID: 1, ChargingProfile: v201.ChargingProfile{
				ID: 5, StackLevel: 1, ChargingProfilePurpose: v201.ChargingProfilePurposeEnumTxProfile,
				ChargingProfileKind: v201.ChargingProfileKindEnumRelative, TransactionID: s.Snapshot().EVSEs[0].TransactionID,
				ChargingSchedule: []v201.ChargingSchedule{{ID: 1, ChargingRateUnit: v201.ChargingRateUnitEnumA,
					ChargingSchedulePeriod: []v201.ChargingSchedulePeriod{{StartPeriod: 0, Limit: 5.4}}}},
			}})
			if err != nil || resp.Status != v201.ChargingProfileStatusEnumAccepted {
				t.Fatalf("SetChargingProfile: %+v %v", resp, err)
			}
		}
		want := 3700.0
		if v != ocpp.V16 {
			want = 5.4 * 230 * 3
		}
		c.reset()
		waitFor(t, "a meter value after the profile", func() bool { return len(measuredPower(c)) >= 2 })
		for _, p := range measuredPower(c) {
			if math.Abs(p-want) > 0.1 {
				t.Errorf("power %v W under a %v W limit", p, want)
			}
		}
		if snap := s.Snapshot().EVSEs[0]; math.Abs(snap.LimitW-want) > 0.1 || math.Abs(snap.PowerW-want) > 0.1 {
			t.Errorf("snapshot: limit %v power %v", snap.LimitW, snap.PowerW)
		}
		if v == ocpp.V16 {
			id := 5
			resp, err := ocpp.Call(ctx, conn, &v16.ClearChargingProfileRequest{ID: &id})
			if err != nil || resp.Status != v16.ClearChargingProfileStatusAccepted {
				t.Fatalf("ClearChargingProfile: %+v %v", resp, err)
			}
		} else {
			id := 5
			resp, err := ocpp.Call(ctx, conn, &v201.ClearChargingProfileRequest{ChargingProfileID: &id})
			if err != nil || resp.Status != v201.ClearChargingProfileStatusEnumAccepted {
				t.Fatalf("ClearChargingProfile: %+v %v", resp, err)
			}
		}
		if snap := s.Snapshot().EVSEs[0]; snap.LimitW != -1 || snap.PowerW != 11000 {
			t.Errorf("after clearing: limit %v power %v", snap.LimitW, snap.PowerW)
		}
	})
}

// measuredPower returns the Power.Active.Import of every recorded meter value.
func measuredPower(c *csms) []float64 {
	var out []float64
	for _, r := range c.all("") {
		switch m := r.Msg.(type) {
		case *v16.MeterValuesRequest:
			for _, sv := range m.MeterValue[0].SampledValue {
				if sv.Measurand == MeasurandPower {
					f, _ := strconv.ParseFloat(sv.Value, 64)
					out = append(out, f)
				}
			}
		case *v201.TransactionEventRequest:
			if m.EventType != v201.TransactionEventEnumUpdated {
				continue
			}
			for _, sv := range m.MeterValue[0].SampledValue {
				if sv.Measurand == MeasurandPower {
					out = append(out, sv.Value)
				}
			}
		}
	}
	return out
}

// TestHeartbeatIntervalChange: ChangeConfiguration (1.6) / SetVariables
// (2.0.1) of the heartbeat interval takes effect at once, and reads back.
func TestHeartbeatIntervalChange(t *testing.T) {
	t.Parallel() // mostly waiting on the clock
	bothVersions(t, func(t *testing.T, v ocpp.Version) {
		c := newCSMS(t) // answers interval 300 s
		s := c.station(t, Config{Version: v}, true)
		conn := c.conn(t, "CS1")
		ctx := testCtx(t)
		if v == ocpp.V16 {
			resp, err := ocpp.Call(ctx, conn, &v16.ChangeConfigurationRequest{Key: "HeartbeatInterval", Value: "x"})
			if err != nil || resp.Status != v16.ConfigurationStatusRejected {
				t.Errorf("bad value: %+v %v", resp, err)
			}
			resp, err = ocpp.Call(ctx, conn, &v16.ChangeConfigurationRequest{Key: "NoSuchKey", Value: "1"})
			if err != nil || resp.Status != v16.ConfigurationStatusNotSupported {
				t.Errorf("unknown key: %+v %v", resp, err)
			}
			resp, err = ocpp.Call(ctx, conn, &v16.ChangeConfigurationRequest{Key: "HeartbeatInterval", Value: "1"})
			if err != nil || resp.Status != v16.ConfigurationStatusAccepted {
				t.Fatalf("ChangeConfiguration: %+v %v", resp, err)
			}
			get, err := ocpp.Call(ctx, conn, &v16.GetConfigurationRequest{Key: []string{"HeartbeatInterval", "Nope"}})
			if err != nil || len(get.ConfigurationKey) != 1 || get.ConfigurationKey[0].Value != "1" || len(get.UnknownKey) != 1 {
				t.Errorf("GetConfiguration: %+v %v", get, err)
			}
			all, err := ocpp.Call(ctx, conn, &v16.GetConfigurationRequest{})
			if err != nil || len(all.ConfigurationKey) < 15 {
				t.Errorf("GetConfiguration of all keys: %d %v", len(all.ConfigurationKey), err)
			}
		} else {
			hb := v201.SetVariableData{Component: v201.Component{Name: "OCPPCommCtrlr"}, Variable: v201.Variable{Name: "HeartbeatInterval"}, AttributeValue: "1"}
			bad := v201.SetVariableData{Component: v201.Component{Name: "Nope"}, Variable: v201.Variable{Name: "X"}, AttributeValue: "1"}
			resp, err := ocpp.Call(ctx, conn, &v201.SetVariablesRequest{SetVariableData: []v201.SetVariableData{hb, bad}})
			if err != nil || resp.SetVariableResult[0].AttributeStatus != v201.SetVariableStatusEnumAccepted ||
				resp.SetVariableResult[1].AttributeStatus != v201.SetVariableStatusEnumUnknownComponent {
				t.Fatalf("SetVariables: %+v %v", resp, err)
			}
			get, err := ocpp.Call(ctx, conn, &v201.GetVariablesRequest{GetVariableData: []v201.GetVariableData{
				{Component: v201.Component{Name: "OCPPCommCtrlr"}, Variable: v201.Variable{Name: "HeartbeatInterval"}},
				{Component: v201.Component{Name: "SampledDataCtrlr"}, Variable: v201.Variable{Name: "TxUpdatedMeasurands"}},
				{Component: v201.Component{Name: "AuthCtrlr"}, Variable: v201.Variable{Name: "Nope"}},
			}})
			if err != nil || get.GetVariableResult[0].AttributeValue != "1" ||
				get.GetVariableResult[1].AttributeValue != MeasurandEnergy+","+MeasurandPower ||
				get.GetVariableResult[2].AttributeStatus != v201.GetVariableStatusEnumUnknownVariable {
				t.Errorf("GetVariables: %+v %v", get, err)
			}
		}
		changed := time.Now()
		waitFor(t, "two heartbeats", func() bool { return c.count("Heartbeat") >= 2 })
		if d := time.Since(changed); d > 3*time.Second {
			t.Errorf("two heartbeats took %v at a 1 s interval", d)
		}
		if s.Snapshot().Heartbeat != time.Second {
			t.Errorf("snapshot heartbeat %v", s.Snapshot().Heartbeat)
		}
	})
}

// TestOtherRequests: ChangeAvailability, TriggerMessage, UnlockConnector,
// DataTransfer and an action the station does not do.
func TestOtherRequests(t *testing.T) {
	bothVersions(t, func(t *testing.T, v ocpp.Version) {
		c := newCSMS(t)
		s := c.station(t, Config{Version: v, DataTransferVendors: []string{"org.openev"}}, true)
		conn := c.conn(t, "CS1")
		ctx := testCtx(t)
		c.reset()
		if v == ocpp.V16 {
			ca, err := ocpp.Call(ctx, conn, &v16.ChangeAvailabilityRequest{ConnectorID: 1, Type: v16.AvailabilityTypeInoperative})
			if err != nil || ca.Status != v16.AvailabilityStatusAccepted {
				t.Fatalf("ChangeAvailability: %+v %v", ca, err)
			}
			waitFor(t, "Unavailable", func() bool {
				st := c.all("StatusNotification")
				return len(st) == 1 && st[0].Msg.(*v16.StatusNotificationRequest).Status == v16.ChargePointStatusUnavailable
			})
			tm, err := ocpp.Call(ctx, conn, &v16.TriggerMessageRequest{RequestedMessage: v16.MessageTriggerHeartbeat})
			if err != nil || tm.Status != v16.TriggerMessageStatusAccepted {
				t.Fatalf("TriggerMessage: %+v %v", tm, err)
			}
			waitFor(t, "triggered heartbeat", func() bool { return c.count("Heartbeat") == 1 })
			ul, err := ocpp.Call(ctx, conn, &v16.UnlockConnectorRequest{ConnectorID: 1})
			if err != nil || ul.Status != v16.UnlockStatusUnlocked {
				t.Errorf("UnlockConnector: %+v %v", ul, err)
			}
			dt, err := ocpp.Call(ctx, conn, &v16.DataTransferRequest{VendorID: "acme"})
			if err != nil || dt.Status != v16.DataTransferStatusUnknownVendorId {
				t.Errorf("DataTransfer: %+v %v", dt, err)
			}
			dt, err = ocpp.Call(ctx, conn, &v16.DataTransferRequest{VendorID: "org.openev", MessageID: "x"})
			if err != nil || dt.Status != v16.DataTransferStatusAccepted {
				t.Errorf("DataTransfer to a configured vendor: %+v %v", dt, err)
			}
			_, err = ocpp.Call(ctx, conn, &v16.ClearCacheRequest{})
			if !errors.Is(err, &ocpp.Error{Code: ocpp.NotSupported}) {
				t.Errorf("ClearCache: %v, want NotSupported", err)
			}
		} else {
			ca, err := ocpp.Call(ctx, conn, &v201.ChangeAvailabilityRequest{OperationalStatus: v201.OperationalStatusEnumInoperative})
			if err != nil || ca.Status != v201.ChangeAvailabilityStatusEnumAccepted {
				t.Fatalf("ChangeAvailability: %+v %v", ca, err)
			}
			waitFor(t, "Unavailable", func() bool {
				st := c.all("StatusNotification")
				return len(st) == 1 && st[0].Msg.(*v201.StatusNotificationRequest).ConnectorStatus == v201.ConnectorStatusEnumUnavailable
			})
			tm, err := ocpp.Call(ctx, conn, &v201.TriggerMessageRequest{RequestedMessage: v201.MessageTriggerEnumHeartbeat})
			if err != nil || tm.Status != v201.TriggerMessageStatusEnumAccepted {
				t.Fatalf("TriggerMessage: %+v %v", tm, err)
			}
			waitFor(t, "triggered heartbeat", func() bool { return c.count("Heartbeat") == 1 })
			ul, err := ocpp.Call(ctx, conn, &v201.UnlockConnectorRequest{EvseID: 1, ConnectorID: 3})
			if err != nil || ul.Status != v201.UnlockStatusEnumUnknownConnector {
				t.Errorf("UnlockConnector: %+v %v", ul, err)
			}
			dt, err := ocpp.Call(ctx, conn, &v201.DataTransferRequest{VendorID: "acme"})
			if err != nil || dt.Status != v201.DataTransferStatusEnumUnknownVendorId {
				t.Errorf("DataTransfer: %+v %v", dt, err)
			}
			dt, err = ocpp.Call(ctx, conn, &v201.DataTransferRequest{VendorID: "org.openev"})
			if err != nil || dt.Status != v201.DataTransferStatusEnumAccepted {
				t.Errorf("DataTransfer to a configured vendor: %+v %v", dt, err)
			}
			_, err = ocpp.Call(ctx, conn, &v201.ClearCacheRequest{})
			if !errors.Is(err, &ocpp.Error{Code: ocpp.NotSupported}) {
				t.Errorf("ClearCache: %v, want NotSupported", err)
			}
		}
		if _, err := s.StartTransaction(ctx, 1, ""); err == nil {
			t.Error("started a transaction on an unavailable EVSE")
		}
	})
}

// TestClockAlignedData: setting the aligned-data interval makes the station
// send Sample.Clock readings on the clock (1.6 MeterValues outside a
// transaction, 2.0.1 TransactionEvent MeterValueClock within one).
func TestClockAlignedData(t *testing.T) {
	t.Parallel() // mostly waiting on the clock
	bothVersions(t, func(t *testing.T, v ocpp.Version) {
		c := newCSMS(t)
		s := c.station(t, Config{Version: v, Speed: 60}, true)
		conn := c.conn(t, "CS1")
		ctx := testCtx(t)
		if v == ocpp.V16 {
			resp, err := ocpp.Call(ctx, conn, &v16.ChangeConfigurationRequest{Key: "ClockAlignedDataInterval", Value: "1"})
			if err != nil || resp.Status != v16.ConfigurationStatusAccepted {
				t.Fatalf("ChangeConfiguration: %+v %v", resp, err)
			}
			waitFor(t, "clock-aligned meter values", func() bool { return c.count("MeterValues") >= 1 })
			mv := c.all("MeterValues")[0].Msg.(*v16.MeterValuesRequest)
			if mv.TransactionID != nil || mv.MeterValue[0].SampledValue[0].Context != v16.ReadingContextSampleClock ||
				mv.MeterValue[0].Timestamp.Nanosecond() > int(100*time.Millisecond) {
				t.Errorf("aligned meter value: %+v", mv)
			}
			return
		}
		if _, err := s.StartTransaction(ctx, 1, ""); err != nil {
			t.Fatal(err)
		}
		set := v201.SetVariableData{Component: v201.Component{Name: "AlignedDataCtrlr"}, Variable: v201.Variable{Name: "Interval"}, AttributeValue: "1"}
		resp, err := ocpp.Call(ctx, conn, &v201.SetVariablesRequest{SetVariableData: []v201.SetVariableData{set}})
		if err != nil || resp.SetVariableResult[0].AttributeStatus != v201.SetVariableStatusEnumAccepted {
			t.Fatalf("SetVariables: %+v %v", resp, err)
		}
		waitFor(t, "clock-aligned transaction event", func() bool {
			for _, r := range c.all("TransactionEvent") {
				if r.Msg.(*v201.TransactionEventRequest).TriggerReason == v201.TriggerReasonEnumMeterValueClock {
					return true
				}
			}
			return false
		})
	})
}

// TestScheduledWhileCharging: ChangeAvailability Inoperative and a 2.0.1
// OnIdle Reset wait for the running transaction: answered Scheduled, carried
// out when it ends.
func TestScheduledWhileCharging(t *testing.T) {
	c := newCSMS(t)
	s := c.station(t, fastSession(ocpp.V201), true)
	conn := c.conn(t, "CS1")
	ctx := testCtx(t)
	if _, err := s.StartTransaction(ctx, 1, ""); err != nil {
		t.Fatal(err)
	}
	one := v201.EVSE{ID: 1}
	ca, err := ocpp.Call(ctx, conn, &v201.ChangeAvailabilityRequest{Evse: &one, OperationalStatus: v201.OperationalStatusEnumInoperative})
	if err != nil || ca.Status != v201.ChangeAvailabilityStatusEnumScheduled {
		t.Fatalf("ChangeAvailability while charging: %+v %v", ca, err)
	}
	rs, err := ocpp.Call(ctx, conn, &v201.ResetRequest{Type: v201.ResetEnumOnIdle})
	if err != nil || rs.Status != v201.ResetStatusEnumScheduled {
		t.Fatalf("Reset OnIdle while charging: %+v %v", rs, err)
	}
	time.Sleep(100 * time.Millisecond)
	if c.count("BootNotification") != 1 || !s.Snapshot().EVSEs[0].Available {
		t.Fatal("acted before the transaction ended")
	}
	if err := s.StopTransaction(ctx, 1, "Local"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reboot after the transaction", func() bool { return c.count("BootNotification") == 2 })
	waitFor(t, "Unavailable after reboot", func() bool {
		st := c.all("StatusNotification")
		return len(st) > 0 && st[len(st)-1].Msg.(*v201.StatusNotificationRequest).ConnectorStatus == v201.ConnectorStatusEnumUnavailable
	})
}

// TestTriggerMeterValues: a triggered MeterValues carries the Trigger
// context (1.6 with the transactionId of the running transaction).
func TestTriggerMeterValues(t *testing.T) {
	c := newCSMS(t)
	s := c.station(t, Config{Version: ocpp.V16, Speed: 60}, true)
	ctx := testCtx(t)
	if _, err := s.StartTransaction(ctx, 1, ""); err != nil {
		t.Fatal(err)
	}
	one := 1
	resp, err := ocpp.Call(ctx, c.conn(t, "CS1"), &v16.TriggerMessageRequest{RequestedMessage: v16.MessageTriggerMeterValues, ConnectorID: &one})
	if err != nil || resp.Status != v16.TriggerMessageStatusAccepted {
		t.Fatalf("TriggerMessage: %+v %v", resp, err)
	}
	waitFor(t, "triggered meter values", func() bool { return c.count("MeterValues") == 1 })
	mv := c.all("MeterValues")[0].Msg.(*v16.MeterValuesRequest)
	if mv.TransactionID == nil || *mv.TransactionID != 101 || mv.MeterValue[0].SampledValue[0].Context != v16.ReadingContextTrigger {
		t.Errorf("triggered meter values: %+v", mv)
	}
	two := 2
	resp, err = ocpp.Call(ctx, c.conn(t, "CS1"), &v16.TriggerMessageRequest{RequestedMessage: v16.MessageTriggerMeterValues, ConnectorID: &two})
	if err != nil || resp.Status != v16.TriggerMessageStatusRejected {
		t.Errorf("TriggerMessage for a connector that does not exist: %+v %v", resp, err)
	}
}

// TestSampledDataChange: the server changes the measurands and the interval
// of the meter values of a running transaction; both take effect.
func TestSampledDataChange(t *testing.T) {
	t.Parallel() // mostly waiting on the clock
	bothVersions(t, func(t *testing.T, v ocpp.Version) {
		c := newCSMS(t)
		s := c.station(t, fastSession(v), true)
		conn := c.conn(t, "CS1")
		ctx := testCtx(t)
		if _, err := s.StartTransaction(ctx, 1, ""); err != nil {
			t.Fatal(err)
		}
		if v == ocpp.V16 {
			for k, val := range map[string]string{"MeterValuesSampledData": MeasurandSoC, "MeterValueSampleInterval": "1"} {
				resp, err := ocpp.Call(ctx, conn, &v16.ChangeConfigurationRequest{Key: k, Value: val})
				if err != nil || resp.Status != v16.ConfigurationStatusAccepted {
					t.Fatalf("ChangeConfiguration %s: %+v %v", k, resp, err)
				}
			}
			bad, err := ocpp.Call(ctx, conn, &v16.ChangeConfigurationRequest{Key: "MeterValuesSampledData", Value: "Bogus"})
			if err != nil || bad.Status != v16.ConfigurationStatusRejected {
				t.Errorf("unknown measurand: %+v %v", bad, err)
			}
		} else {
			comp := v201.Component{Name: "SampledDataCtrlr"}
			resp, err := ocpp.Call(ctx, conn, &v201.SetVariablesRequest{SetVariableData: []v201.SetVariableData{
				{Component: comp, Variable: v201.Variable{Name: "TxUpdatedMeasurands"}, AttributeValue: MeasurandSoC},
				{Component: comp, Variable: v201.Variable{Name: "TxUpdatedInterval"}, AttributeValue: "1"},
			}})
			if err != nil || resp.SetVariableResult[0].AttributeStatus != v201.SetVariableStatusEnumAccepted ||
				resp.SetVariableResult[1].AttributeStatus != v201.SetVariableStatusEnumAccepted {
				t.Fatalf("SetVariables: %+v %v", resp, err)
			}
		}
		time.Sleep(150 * time.Millisecond) // a meter value already under way may still use the old settings
		c.reset()
		time.Sleep(2200 * time.Millisecond)
		var n int
		for _, r := range c.all("") {
			var ms []string
			switch m := r.Msg.(type) {
			case *v16.MeterValuesRequest:
				for _, sv := range m.MeterValue[0].SampledValue {
					ms = append(ms, string(sv.Measurand))
				}
			case *v201.TransactionEventRequest:
				for _, sv := range m.MeterValue[0].SampledValue {
					ms = append(ms, string(sv.Measurand))
				}
			default:
				continue
			}
			n++
			if len(ms) != 1 || ms[0] != MeasurandSoC {
				t.Errorf("measurands %v after the change", ms)
			}
		}
		if n < 1 || n > 3 {
			t.Errorf("%d meter values in 2.2 s at a 1 s interval", n)
		}
	})
}
