package sim

import (
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/openev/openev/ocpp"
	"github.com/openev/openev/ocpp/v16"
	"github.com/openev/openev/ocpp/v201"
)

// TestBootAndHeartbeat: the station boots, reports its connectors and then
// heartbeats at the interval the server gave (1 s), not at its default.
func TestBootAndHeartbeat(t *testing.T) {
	t.Parallel() // mostly waiting on the clock
	bothVersions(t, func(t *testing.T, v ocpp.Version) {
		c := newCSMS(t)
		c.interval = 1
		s := c.station(t, Config{Version: v, EVSEs: []EVSEConfig{{}, {Connectors: 2}}}, true)
		if snap := s.Snapshot(); !snap.Registered || snap.Heartbeat != time.Second {
			t.Fatalf("after boot: registered %v heartbeat %v", snap.Registered, snap.Heartbeat)
		}
		waitFor(t, "two heartbeats", func() bool { return c.count("Heartbeat") >= 2 })
		hb := c.all("Heartbeat")
		boot := c.all("BootNotification")[0]
		if gap := hb[0].At.Sub(boot.At); gap < 900*time.Millisecond || gap > 1500*time.Millisecond {
			t.Errorf("first heartbeat %v after boot, want ~1s", gap)
		}
		if gap := hb[1].At.Sub(hb[0].At); gap < 900*time.Millisecond || gap > 1500*time.Millisecond {
			t.Errorf("heartbeats %v apart, want ~1s", gap)
		}
		st := c.all("StatusNotification")
		if v == ocpp.V16 {
			// connector 0, then one per EVSE
			if len(st) != 3 || st[0].Msg.(*v16.StatusNotificationRequest).ConnectorID != 0 ||
				st[2].Msg.(*v16.StatusNotificationRequest).ConnectorID != 2 {
				t.Fatalf("1.6 status notifications after boot: %d %v", len(st), st)
			}
			if r := c.all("BootNotification")[0].Msg.(*v16.BootNotificationRequest); r.ChargePointVendor != "openEV" || r.ChargePointModel != "Sim" {
				t.Errorf("boot: %+v", r)
			}
		} else {
			// EVSE 1 connector 1, EVSE 2 connectors 1 and 2
			if len(st) != 3 {
				t.Fatalf("2.0.1 status notifications after boot: %d", len(st))
			}
			last := st[2].Msg.(*v201.StatusNotificationRequest)
			if last.EvseID != 2 || last.ConnectorID != 2 || last.ConnectorStatus != v201.ConnectorStatusEnumAvailable {
				t.Errorf("last status: %+v", last)
			}
			if r := c.all("BootNotification")[0].Msg.(*v201.BootNotificationRequest); r.Reason != v201.BootReasonEnumPowerUp {
				t.Errorf("boot reason %s", r.Reason)
			}
		}
	})
}

// TestBootPendingRetries: a Pending answer makes the station boot again
// after the interval, without heartbeats meanwhile.
func TestBootPendingRetries(t *testing.T) {
	t.Parallel() // mostly waiting on the clock
	c := newCSMS(t)
	c.interval = 1
	c.boot = "Pending"
	s := c.station(t, Config{Version: ocpp.V201}, false)
	res, err := s.Boot(testCtx(t))
	if err != nil || res.Status != "Pending" {
		t.Fatalf("Boot: %+v %v", res, err)
	}
	c.mu.Lock()
	c.boot = "Accepted"
	c.mu.Unlock()
	waitFor(t, "second boot", func() bool { return c.count("BootNotification") == 2 })
	waitFor(t, "registered", func() bool { return s.Snapshot().Registered })
	if n := c.count("Heartbeat"); n != 0 {
		t.Errorf("%d heartbeats before the accepted boot's interval", n)
	}
}

// fastSession is a station whose meter runs an hour per second and sends
// meter values every 100 ms.
func fastSession(v ocpp.Version) Config {
	return Config{Version: v, Speed: 3600, MeterInterval: 100 * time.Millisecond,
		Measurands: []string{MeasurandEnergy, MeasurandPower, MeasurandCurrent, MeasurandVoltage, MeasurandSoC}}
}

// TestChargingSession16: plug, authorize, start, meter values with rising
// energy, stop with the final reading, unplug — the 1.6 messages in order.
func TestChargingSession16(t *testing.T) {
	c := newCSMS(t)
	s := c.station(t, fastSession(ocpp.V16), true)
	c.reset()
	ctx := testCtx(t)
	if err := s.Plug(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Authorize(ctx, "TAG1"); err != nil || st != "Accepted" {
		t.Fatalf("Authorize: %q %v", st, err)
	}
	txID, err := s.StartTransaction(ctx, 1, "TAG1")
	if err != nil || txID != "101" {
		t.Fatalf("StartTransaction: %q %v", txID, err)
	}
	waitFor(t, "two meter values", func() bool { return c.count("MeterValues") >= 2 })
	if err := s.StopTransaction(ctx, 1, "Local"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unplug(ctx, 1); err != nil {
		t.Fatal(err)
	}
	calls := c.all("")
	var seq []string
	for _, r := range calls {
		a := r.Action
		if sn, ok := r.Msg.(*v16.StatusNotificationRequest); ok {
			a += ":" + string(sn.Status)
		}
		if a != "MeterValues" || seq[len(seq)-1] != "MeterValues" {
			seq = append(seq, a)
		}
	}
	want := []string{"StatusNotification:Preparing", "Authorize", "StartTransaction", "StatusNotification:Charging",
		"MeterValues", "StopTransaction", "StatusNotification:Finishing", "StatusNotification:Available"}
	if len(seq) != len(want) {
		t.Fatalf("sequence %v, want %v", seq, want)
	}
	for i := range want {
		if seq[i] != want[i] {
			t.Fatalf("sequence %v, want %v", seq, want)
		}
	}
	start := c.all("StartTransaction")[0].Msg.(*v16.StartTransactionRequest)
	if start.ConnectorID != 1 || start.IDTag != "TAG1" || start.MeterStart != 0 {
		t.Errorf("start: %+v", start)
	}
	last := -1.0
	for _, r := range c.all("MeterValues") {
		mv := r.Msg.(*v16.MeterValuesRequest)
		if mv.TransactionID == nil || *mv.TransactionID != 101 || mv.ConnectorID != 1 {
			t.Fatalf("meter values: %+v", mv)
		}
		vals := map[string]string{}
		for _, sv := range mv.MeterValue[0].SampledValue {
			vals[string(sv.Measurand)+string(sv.Phase)] = sv.Value
			if sv.Context != v16.ReadingContextSamplePeriodic {
				t.Errorf("context %s", sv.Context)
			}
		}
		e, _ := strconv.ParseFloat(vals[MeasurandEnergy], 64)
		if e <= last {
			t.Errorf("energy %v after %v: not increasing", e, last)
		}
		last = e
		p, _ := strconv.ParseFloat(vals[MeasurandPower], 64)
		a, _ := strconv.ParseFloat(vals[MeasurandCurrent+"L1"], 64)
		if p != 11000 || vals[MeasurandVoltage+"L1-N"] != "230" || a < 15.9 || a > 16 {
			t.Errorf("power %v W, current %v A, voltage %s: inconsistent", p, a, vals[MeasurandVoltage+"L1-N"])
		}
	}
	stop := c.all("StopTransaction")[0].Msg.(*v16.StopTransactionRequest)
	if stop.TransactionID != 101 || stop.Reason != v16.ReasonLocal || float64(stop.MeterStop) < last || len(stop.TransactionData) != 1 {
		t.Errorf("stop: %+v (last meter value %v)", stop, last)
	}
	if snap := s.Snapshot(); snap.EVSEs[0].TransactionID != "" || snap.EVSEs[0].Plugged || math.Round(snap.EVSEs[0].EnergyWh) != float64(stop.MeterStop) {
		t.Errorf("snapshot after session: %+v", snap.EVSEs[0])
	}
}

// TestChargingSession201: the same session in 2.0.1: TransactionEvent
// Started/Updated/Ended with seqNo 0..n and the right trigger reasons.
func TestChargingSession201(t *testing.T) {
	c := newCSMS(t)
	s := c.station(t, fastSession(ocpp.V201), true)
	c.reset()
	ctx := testCtx(t)
	if err := s.Plug(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Authorize(ctx, "TAG1"); err != nil || st != "Accepted" {
		t.Fatalf("Authorize: %q %v", st, err)
	}
	txID, err := s.StartTransaction(ctx, 1, "TAG1")
	if err != nil || len(txID) != 36 {
		t.Fatalf("StartTransaction: %q %v", txID, err)
	}
	waitFor(t, "two updates", func() bool { return c.count("TransactionEvent") >= 3 })
	if err := s.StopTransaction(ctx, 1, "Local"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unplug(ctx, 1); err != nil {
		t.Fatal(err)
	}
	st := c.all("StatusNotification")
	if len(st) != 2 || st[0].Msg.(*v201.StatusNotificationRequest).ConnectorStatus != v201.ConnectorStatusEnumOccupied ||
		st[1].Msg.(*v201.StatusNotificationRequest).ConnectorStatus != v201.ConnectorStatusEnumAvailable {
		t.Errorf("status notifications: %v", st)
	}
	evs := c.all("TransactionEvent")
	last := -1.0
	for i, r := range evs {
		ev := r.Msg.(*v201.TransactionEventRequest)
		if ev.SeqNo != i || ev.TransactionInfo.TransactionID != txID || ev.Offline != nil && *ev.Offline {
			t.Fatalf("event %d: seqNo %d tx %s offline %v", i, ev.SeqNo, ev.TransactionInfo.TransactionID, ev.Offline)
		}
		want := struct{ typ, trigger string }{"Updated", "MeterValuePeriodic"}
		switch i {
		case 0:
			want.typ, want.trigger = "Started", "Authorized"
			if ev.IDToken == nil || ev.IDToken.IDToken != "TAG1" || ev.Evse == nil || ev.Evse.ID != 1 ||
				ev.TransactionInfo.ChargingState != v201.ChargingStateEnumCharging {
				t.Errorf("started: %+v", ev)
			}
		case len(evs) - 1:
			want.typ, want.trigger = "Ended", "StopAuthorized"
			if ev.TransactionInfo.StoppedReason != v201.ReasonEnumLocal || ev.TransactionInfo.ChargingState != v201.ChargingStateEnumEVConnected {
				t.Errorf("ended: %+v", ev.TransactionInfo)
			}
		}
		if string(ev.EventType) != want.typ || string(ev.TriggerReason) != want.trigger {
			t.Errorf("event %d: %s/%s, want %s/%s", i, ev.EventType, ev.TriggerReason, want.typ, want.trigger)
		}
		var energy float64
		for _, sv := range ev.MeterValue[0].SampledValue {
			if sv.Measurand == MeasurandEnergy {
				energy = sv.Value
			}
		}
		if energy < last || i > 0 && i < len(evs)-1 && energy == last {
			t.Errorf("event %d: energy %v after %v", i, energy, last)
		}
		last = energy
	}
	if last <= 0 {
		t.Errorf("final energy %v", last)
	}
}

// TestUnplugDuringTransaction: pulling the cable ends the transaction with
// EVDisconnected (2.0.1: triggerReason EVDeparted, chargingState Idle; 1.6:
// straight to Available).
func TestUnplugDuringTransaction(t *testing.T) {
	bothVersions(t, func(t *testing.T, v ocpp.Version) {
		c := newCSMS(t)
		s := c.station(t, fastSession(v), true)
		ctx := testCtx(t)
		if _, err := s.StartTransaction(ctx, 1, ""); err != nil {
			t.Fatal(err)
		}
		c.reset()
		if err := s.Unplug(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if v == ocpp.V16 {
			calls := c.all("")
			var got []string
			for _, r := range calls {
				switch m := r.Msg.(type) {
				case *v16.StopTransactionRequest:
					got = append(got, "Stop:"+string(m.Reason))
				case *v16.StatusNotificationRequest:
					got = append(got, "Status:"+string(m.Status))
				}
			}
			if len(got) != 2 || got[0] != "Stop:EVDisconnected" || got[1] != "Status:Available" {
				t.Errorf("after unplugging: %v", got)
			}
			return
		}
		evs := c.all("TransactionEvent")
		end := evs[len(evs)-1].Msg.(*v201.TransactionEventRequest)
		if end.EventType != v201.TransactionEventEnumEnded || end.TriggerReason != v201.TriggerReasonEnumEVDeparted ||
			end.TransactionInfo.StoppedReason != v201.ReasonEnumEVDisconnected || end.TransactionInfo.ChargingState != v201.ChargingStateEnumIdle {
			t.Errorf("ended: %+v %+v", end, end.TransactionInfo)
		}
		if st := c.all("StatusNotification"); len(st) != 1 || st[0].Msg.(*v201.StatusNotificationRequest).ConnectorStatus != v201.ConnectorStatusEnumAvailable {
			t.Errorf("status after unplugging: %v", st)
		}
	})
}

// TestManyStations: 200 stations of both versions share one Dialer each and
// run sessions at the same time; every message arrives and none fails.
func TestManyStations(t *testing.T) {
	c := newCSMS(t)
	dialers := map[ocpp.Version]*ocpp.Dialer{
		ocpp.V16:  {Versions: []ocpp.Version{ocpp.V16}, Options: ocpp.Options{Logger: discard}},
		ocpp.V201: {Versions: []ocpp.Version{ocpp.V201}, Options: ocpp.Options{Logger: discard}},
	}
	const n = 200
	errs := make(chan error, n)
	o := &countingObserver{}
	for i := range n {
		v := ocpp.V16
		if i%2 == 1 {
			v = ocpp.V201
		}
		go func() {
			cfg := fastSession(v)
			cfg.URL, cfg.Identity, cfg.Dialer, cfg.Observer = c.url, fmt.Sprintf("MANY%03d", i), dialers[v], o
			s, err := New(cfg)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			ctx := testCtx(t)
			if err := s.Connect(ctx); err != nil {
				errs <- err
				return
			}
			if _, err := s.Boot(ctx); err != nil {
				errs <- err
				return
			}
			if _, err := s.StartTransaction(ctx, 1, ""); err != nil {
				errs <- err
				return
			}
			time.Sleep(250 * time.Millisecond)
			if err := s.StopTransaction(ctx, 1, "Local"); err != nil {
				errs <- err
				return
			}
			errs <- s.Unplug(ctx, 1)
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := c.count("BootNotification"); got != n {
		t.Errorf("%d boots, want %d", got, n)
	}
	if got := c.count("StartTransaction") + c.count("StopTransaction"); got != n {
		t.Errorf("%d 1.6 start/stop messages, want %d", got, n)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.errs != 0 || o.calls["BootNotification"] != n {
		t.Errorf("observer: %v, %d errors", o.calls, o.errs)
	}
}

// TestRefusedToken: when the server refuses the token of a started
// transaction, the station ends it at once (DeAuthorized) and says so.
func TestRefusedToken(t *testing.T) {
	bothVersions(t, func(t *testing.T, v ocpp.Version) {
		c := newCSMS(t)
		s := c.station(t, fastSession(v), true)
		ctx := testCtx(t)
		if _, err := s.StartTransaction(ctx, 1, "BLOCKED"); err == nil {
			t.Fatal("StartTransaction with a blocked token succeeded")
		}
		if s.Snapshot().EVSEs[0].TransactionID != "" {
			t.Error("transaction still running")
		}
		if v == ocpp.V16 {
			stop := c.all("StopTransaction")
			if len(stop) != 1 || stop[0].Msg.(*v16.StopTransactionRequest).Reason != v16.ReasonDeAuthorized {
				t.Errorf("stop: %v", stop)
			}
			return
		}
		evs := c.all("TransactionEvent")
		end := evs[len(evs)-1].Msg.(*v201.TransactionEventRequest)
		if end.EventType != v201.TransactionEventEnumEnded || end.TriggerReason != v201.TriggerReasonEnumDeauthorized || end.SeqNo != 1 {
			t.Errorf("ended: %+v", end)
		}
	})
}
