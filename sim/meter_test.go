package sim

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/openev/openev/ocpp"
)

// meterStation is an unconnected station with a charging EV on EVSE 1 at
// t0, for testing the meter and the charging profiles without a network.
func meterStation(t *testing.T, soc float64, t0 time.Time) (*Station, *evse) {
	t.Helper()
	s, err := New(Config{URL: "ws://127.0.0.1:1/ocpp", Identity: "M1", Speed: 3600, EV: EVConfig{StartSoC: soc}})
	if err != nil {
		t.Fatal(err)
	}
	e := s.evses[0]
	e.plugged = true
	e.meter = meter{soc: soc, charging: true, last: t0}
	e.tx = &transaction{id: "T1", started: t0, state: "Charging"}
	return s, e
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// TestMeterIntegratesPower: an hour of simulated charging at the EV's 11 kW
// gives 11 kWh and raises the SoC by 11/60.
func TestMeterIntegratesPower(t *testing.T) {
	t0 := time.Now()
	s, e := meterStation(t, 0.2, t0)
	sm := s.sample(e, t0.Add(time.Second)) // 1 s × Speed 3600 = 1 h
	if !near(sm.EnergyWh, 11000, 0.5) || sm.PowerW != 11000 || !near(sm.SoC, 20+11000.0/60000*100, 0.01) {
		t.Errorf("after an hour: %+v", sm)
	}
	if sm.OfferedW != 22000 {
		t.Errorf("offered %v, want the EVSE's 22 kW", sm.OfferedW)
	}
}

// TestMeterTaper: above 80 % SoC the power falls, and a full battery draws
// nothing; the energy is what the battery took.
func TestMeterTaper(t *testing.T) {
	t0 := time.Now()
	s, e := meterStation(t, 0.9, t0)
	sm := s.sample(e, t0.Add(time.Second/60)) // one simulated minute
	if sm.PowerW >= 11000*0.5 || sm.PowerW <= 0 {
		t.Errorf("power at %.1f %% SoC: %v W, want tapered", sm.SoC, sm.PowerW)
	}
	sm = s.sample(e, t0.Add(20*time.Second)) // 20 simulated hours
	if sm.PowerW != 0 || sm.SoC != 100 || !near(sm.EnergyWh, 6000, 1) {
		t.Errorf("full battery: %+v, want 0 W, 100 %%, 6000 Wh", sm)
	}
	if st := chargingState(e, sm); st != "SuspendedEV" {
		t.Errorf("charging state of a full EV: %s", st)
	}
}

// TestProfileLimits: periods, units, stack levels, validity and the station
// maximum.
func TestProfileLimits(t *testing.T) {
	t0 := time.Now()
	s, e := meterStation(t, 0.2, t0)
	s.installProfile(1, &profile{id: 1, stack: 0, purpose: purposeTxDefault, kind: "Absolute", start: t0, installed: t0,
		periods: []period{{start: 0, limit: 7000}, {start: time.Hour, limit: 3000}}})
	check := func(at time.Duration, want float64) {
		t.Helper()
		l, ok := s.limitAt(e, t0.Add(at))
		if want < 0 && ok || want >= 0 && (!ok || !near(l, want, 0.01)) {
			t.Errorf("limit at %v: %v %v, want %v", at, l, ok, want)
		}
	}
	check(10*time.Minute, 7000)
	check(2*time.Hour, 3000)
	// A TxProfile replaces the default profile; 16 A on one phase is 3680 W.
	s.installProfile(1, &profile{id: 2, stack: 0, purpose: purposeTx, kind: "Relative", txID: "T1", installed: t0, unitAmps: true,
		periods: []period{{start: 0, limit: 16, phases: 1}}})
	check(10*time.Minute, 3680)
	// A higher stack level wins; it ends after its duration.
	s.installProfile(1, &profile{id: 3, stack: 2, purpose: purposeTx, kind: "Relative", installed: t0, duration: 30 * time.Minute,
		periods: []period{{start: 0, limit: 1000}}})
	check(10*time.Minute, 1000)
	check(40*time.Minute, 3680)
	// The station maximum caps everything.
	s.installProfile(0, &profile{id: 4, purpose: purposeMax, kind: "Absolute", installed: t0, periods: []period{{limit: 2000}}})
	check(40*time.Minute, 2000)
	// An expired profile does not count.
	s.installProfile(0, &profile{id: 4, purpose: purposeMax, kind: "Absolute", installed: t0, validTo: t0.Add(time.Minute), periods: []period{{limit: 2000}}})
	check(40*time.Minute, 3680)
	// A daily profile repeats.
	s.clearProfiles(func(int, *profile) bool { return true })
	s.installProfile(1, &profile{id: 5, purpose: purposeTxDefault, kind: "Recurring", recurrency: "Daily", start: t0.Add(-48 * time.Hour), installed: t0,
		periods: []period{{start: 0, limit: 4000}, {start: 12 * time.Hour, limit: 8000}}})
	check(time.Hour, 4000)
	check(13*time.Hour, 8000)
	// Clearing leaves no limit; the meter follows the limits it had.
	s.clearProfiles(func(int, *profile) bool { return true })
	check(time.Hour, -1)
}

// TestReadingsConsistent: W, A and V agree (P = 3 × 230 V × I).
func TestReadingsConsistent(t *testing.T) {
	rs := readings(Sample{EnergyWh: 1234.4, PowerW: 6900, OfferedW: 11040, SoC: 55.5},
		[]string{MeasurandEnergy, MeasurandPower, MeasurandCurrent, MeasurandVoltage, MeasurandCurrentOffered, MeasurandSoC}, false)
	got := map[string]float64{}
	for _, r := range rs {
		got[r.measurand+r.phase] = r.value
	}
	if got[MeasurandEnergy] != 1234 || got[MeasurandPower] != 6900 || got[MeasurandCurrent+"L3"] != 10 ||
		got[MeasurandVoltage+"L2-N"] != 230 || got[MeasurandCurrentOffered+"L1"] != 16 || got[MeasurandSoC] != 56 {
		t.Errorf("readings: %v", got)
	}
	if rs := readings(Sample{EnergyWh: 12345}, []string{MeasurandEnergy}, true); rs[0].value != 12.345 || rs[0].unit != "Wh" {
		t.Errorf("wrong-units reading: %+v", rs[0])
	}
}

// countingObserver records what an Observer sees.
type countingObserver struct {
	mu     sync.Mutex
	calls  map[string]int
	errs   int
	states []bool
}

func (o *countingObserver) CallDone(action string, latency time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.calls == nil {
		o.calls = map[string]int{}
	}
	o.calls[action]++
	if err != nil {
		o.errs++
	}
}

func (o *countingObserver) StateChanged(identity string, connected bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.states = append(o.states, connected)
}

// TestObserver: the Observer sees every CALL and every connection change.
func TestObserver(t *testing.T) {
	c := newCSMS(t)
	o := &countingObserver{}
	s := c.station(t, Config{Version: ocpp.V16, Observer: o}, true)
	if err := s.Heartbeat(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	waitFor(t, "disconnect seen", func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		return len(o.states) == 2
	})
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.calls["BootNotification"] != 1 || o.calls["StatusNotification"] != 2 || o.calls["Heartbeat"] != 1 || o.errs != 0 {
		t.Errorf("calls %v, %d errors", o.calls, o.errs)
	}
	if !o.states[0] || o.states[1] {
		t.Errorf("states %v, want [true false]", o.states)
	}
}
