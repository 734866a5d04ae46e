package sim

import (
	"math"
	"time"

	"github.com/openev/openev/ocpp"
)

// Electrical constants of the simulated supply: three phases at 230 V, so
// that W, A and V measurands are consistent (P = 3 · 230 V · I).
const (
	voltage = 230.0
	phases  = 3
)

// evse is one EVSE's state. Guarded by Station.mu.
type evse struct {
	id         int
	connectors int
	maxW       float64
	operative  bool // ChangeAvailability
	plugged    bool
	finishing  bool   // 1.6: the transaction ended, the EV is still plugged
	reported   string // the last status sent ("" = none yet)
	tx         *transaction
	// pendingInoperative: ChangeAvailability answered Scheduled; the EVSE
	// becomes unavailable when its transaction ends.
	pendingInoperative bool
	profiles           []*profile
	meter              meter
}

// meter is an EVSE's energy meter and the plugged-in EV's battery.
type meter struct {
	energyWh float64   // the register, never reset
	powerW   float64   // power at the last update
	soc      float64   // EV state of charge 0..1 (while plugged)
	last     time.Time // real time of the last update
	charging bool      // energy flows (a transaction is running)
}

// Sample is one reading of an EVSE's meter.
type Sample struct {
	EnergyWh float64 // register
	PowerW   float64
	OfferedW float64 // what the EVSE would give now: min(EVSE max, profile limit)
	SoC      float64 // percent
}

// maxStep bounds one integration step in simulated seconds, so that the taper
// above 80 % SoC and profile periods are followed closely enough.
const maxStep = 30.0

// advance integrates the meter from its last update to now. Power follows
// min(EV max, EVSE max, profile limit), tapered above 80 % SoC; energy is the
// integral of power over simulated time (real time × Speed). s.mu must be held.
func (s *Station) advance(e *evse, now time.Time) {
	m := &e.meter
	if m.last.IsZero() || !m.charging {
		m.last = now
		if !m.charging {
			m.powerW = 0
		}
		return
	}
	real := now.Sub(m.last).Seconds()
	if real <= 0 {
		return
	}
	sim := real * s.cfg.Speed
	steps := math.Ceil(sim / maxStep)
	if steps > 10000 { // a very long gap: coarser steps rather than unbounded work
		steps = 10000
	}
	dt := sim / steps
	for i := 0; i < int(steps); i++ {
		at := m.last.Add(time.Duration(float64(i) * dt / s.cfg.Speed * float64(time.Second)))
		p := s.powerAt(e, at)
		m.energyWh += p * dt / 3600
		m.soc = math.Min(1, m.soc+p*dt/3600/s.cfg.EV.CapacityWh)
	}
	m.last = now
	m.powerW = s.powerAt(e, now)
}

// powerAt is the power the EV draws at real time t. s.mu must be held.
func (s *Station) powerAt(e *evse, t time.Time) float64 {
	if !e.meter.charging {
		return 0
	}
	p := math.Min(s.cfg.EV.MaxPowerW, s.offeredAt(e, t))
	soc := e.meter.soc
	switch {
	case soc >= 1:
		return 0
	case soc > 0.8:
		// Constant voltage phase: the EV's acceptance falls linearly to a
		// trickle as the battery fills.
		p = math.Min(p, s.cfg.EV.MaxPowerW*math.Max(0.02, (1-soc)/0.2))
	}
	return math.Max(0, p)
}

// offeredAt is what the EVSE offers at t: its maximum, lowered by any
// charging profile. s.mu must be held.
func (s *Station) offeredAt(e *evse, t time.Time) float64 {
	p := e.maxW
	if l, ok := s.limitAt(e, t); ok {
		p = math.Min(p, l)
	}
	return p
}

// sample brings the meter up to now and reads it. s.mu must be held.
func (s *Station) sample(e *evse, now time.Time) Sample {
	s.advance(e, now)
	sm := Sample{EnergyWh: e.meter.energyWh, PowerW: e.meter.powerW, OfferedW: s.offeredAt(e, now)}
	if e.plugged {
		sm.SoC = e.meter.soc * 100
	}
	return sm
}

// reading is a sample on its way into a message: its reading context
// (Sample.Periodic, Sample.Clock, Trigger, Transaction.Begin/End) and
// measurands (nil = the sampled-data measurands).
type reading struct {
	sm         Sample
	context    string
	measurands []string
}

// measurandsOf returns the measurands a reading reports. s.mu must be held.
func (s *Station) measurandsOf(r reading) []string {
	if r.measurands != nil {
		return r.measurands
	}
	return s.settings.measurands
}

// sampledValue is one measurand's reading, in a version-neutral form.
type sampledValue struct {
	measurand string
	value     float64
	unit      string
	phase     string
}

// readings turns a sample into the configured measurands' values. Current
// and voltage are given per phase.
func readings(sm Sample, measurands []string, wrongUnits bool) []sampledValue {
	out := make([]sampledValue, 0, len(measurands)+4)
	for _, m := range measurands {
		switch m {
		case MeasurandEnergy:
			v := math.Round(sm.EnergyWh)
			if wrongUnits {
				v = math.Round(sm.EnergyWh) / 1000 // kWh, still labelled Wh
			}
			out = append(out, sampledValue{measurand: m, value: v, unit: "Wh"})
		case MeasurandPower:
			out = append(out, sampledValue{measurand: m, value: round1(sm.PowerW), unit: "W"})
		case MeasurandPowerOffered:
			out = append(out, sampledValue{measurand: m, value: round1(sm.OfferedW), unit: "W"})
		case MeasurandCurrent, MeasurandCurrentOffered:
			p := sm.PowerW
			if m == MeasurandCurrentOffered {
				p = sm.OfferedW
			}
			a := round1(p / (voltage * phases))
			for _, ph := range []string{"L1", "L2", "L3"} {
				out = append(out, sampledValue{measurand: m, value: a, unit: "A", phase: ph})
			}
		case MeasurandVoltage:
			for _, ph := range []string{"L1-N", "L2-N", "L3-N"} {
				out = append(out, sampledValue{measurand: m, value: voltage, unit: "V", phase: ph})
			}
		case MeasurandSoC:
			out = append(out, sampledValue{measurand: m, value: math.Round(sm.SoC), unit: "Percent"})
		}
	}
	return out
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// restartAlignedLocked schedules the next clock-aligned reading at the next
// multiple of the aligned interval (e.g. every quarter hour on the quarter),
// or stops them when the interval is 0. s.mu must be held.
func (s *Station) restartAlignedLocked() {
	stopTimer(s.alignTimer)
	s.alignTimer = nil
	if d := s.settings.aligned; d > 0 && !s.closed {
		now := time.Now()
		s.alignTimer = time.AfterFunc(now.Truncate(d).Add(d).Sub(now), s.alignedTick)
	}
}

// alignedTick sends the clock-aligned readings of every EVSE: within a
// transaction as transaction messages (1.6 MeterValues with transactionId,
// 2.0.1 TransactionEvent Updated MeterValueClock), otherwise as MeterValues
// when online.
func (s *Station) alignedTick() {
	ctx, cancel := bg()
	defer cancel()
	for _, e := range s.evses {
		s.txMu.Lock()
		s.mu.Lock()
		tx := e.tx
		r := reading{sm: s.sample(e, time.Now()), context: "Sample.Clock", measurands: s.settings.alignedData}
		online := s.conn != nil
		s.mu.Unlock()
		var err error
		switch {
		case tx == nil && !online:
		case s.cfg.Version == ocpp.V16:
			err = s.meter16(ctx, e, tx, r)
		case tx != nil:
			err = s.event201(ctx, e, tx, "Updated", "MeterValueClock", r, "", false)
		default:
			err = s.meterValues201(ctx, e, r)
		}
		s.txMu.Unlock()
		if err != nil {
			s.log.Debug("clock-aligned meter value failed", "station", s.cfg.Identity, "err", err)
		}
	}
	s.mu.Lock()
	s.restartAlignedLocked()
	s.mu.Unlock()
}
