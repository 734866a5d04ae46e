package sim

import (
	"math"
	"time"
)

// Charging profile purposes, version-neutral (1.6 ChargePointMaxProfile and
// 2.0.1 ChargingStationMaxProfile are both purposeMax).
const (
	purposeMax       = "Max"
	purposeTxDefault = "TxDefaultProfile"
	purposeTx        = "TxProfile"
)

// profile is a charging profile the server installed, in a version-neutral
// form; the meter obeys it through limitAt.
type profile struct {
	id         int
	stack      int
	purpose    string
	kind       string // Absolute, Relative, Recurring
	recurrency string // Daily, Weekly
	txID       string // TxProfile: the transaction it belongs to
	validFrom  time.Time
	validTo    time.Time
	start      time.Time // startSchedule; zero = when it was installed (Absolute) or the transaction start (Relative)
	installed  time.Time
	duration   time.Duration // 0 = open-ended
	unitAmps   bool
	periods    []period
}

type period struct {
	start  time.Duration
	limit  float64
	phases int
}

// limitAt returns the charging-profile limit in W for EVSE e at t, if any:
// the station-wide maximum profile caps the EVSE's transaction profile, which
// replaces its default profile (OCPP 1.6 §3.13, 2.0.1 K). s.mu must be held.
func (s *Station) limitAt(e *evse, t time.Time) (float64, bool) {
	limit, ok := math.Inf(1), false
	if l, found := s.stackLimit(s.profiles, purposeMax, e, t); found {
		limit, ok = l, true
	}
	l, found := s.stackLimit(e.profiles, purposeTx, e, t)
	if !found {
		l, found = s.stackLimit(e.profiles, purposeTxDefault, e, t)
		if !found {
			l, found = s.stackLimit(s.profiles, purposeTxDefault, e, t)
		}
	}
	if found {
		limit, ok = math.Min(limit, l), true
	}
	return limit, ok
}

// stackLimit returns the limit of the valid profile of the purpose with the
// highest stack level that has a period at t.
func (s *Station) stackLimit(ps []*profile, purpose string, e *evse, t time.Time) (float64, bool) {
	best, bestStack, found := 0.0, -1, false
	for _, p := range ps {
		if p.purpose != purpose || p.stack <= bestStack {
			continue
		}
		if purpose == purposeTx && (e.tx == nil || p.txID != "" && p.txID != e.tx.id) {
			continue
		}
		if l, ok := p.limitAt(e, t); ok {
			best, bestStack, found = l, p.stack, true
		}
	}
	return best, found
}

// limitAt evaluates one profile at t, in W.
func (p *profile) limitAt(e *evse, t time.Time) (float64, bool) {
	if !p.validFrom.IsZero() && t.Before(p.validFrom) || !p.validTo.IsZero() && !t.Before(p.validTo) {
		return 0, false
	}
	start := p.start
	switch {
	case p.kind == "Relative" && e.tx != nil:
		start = e.tx.started
	case start.IsZero():
		start = p.installed
	}
	elapsed := t.Sub(start)
	if p.kind == "Recurring" && elapsed >= 0 {
		cycle := 24 * time.Hour
		if p.recurrency == "Weekly" {
			cycle *= 7
		}
		elapsed %= cycle
	}
	if elapsed < 0 || p.duration > 0 && elapsed >= p.duration {
		return 0, false
	}
	var cur *period
	for i := range p.periods {
		if p.periods[i].start <= elapsed {
			cur = &p.periods[i]
		}
	}
	if cur == nil {
		return 0, false
	}
	if !p.unitAmps {
		return cur.limit, true
	}
	n := cur.phases
	if n <= 0 {
		n = phases
	}
	return cur.limit * voltage * float64(n), true
}

// installProfile stores p for EVSE evseID (0 = the whole station), replacing
// a profile with the same id, or the same purpose and stack level. s.mu must
// be held.
func (s *Station) installProfile(evseID int, p *profile) {
	for _, e := range s.evses {
		e.profiles = dropProfiles(e.profiles, func(q *profile) bool { return q.id == p.id })
	}
	s.profiles = dropProfiles(s.profiles, func(q *profile) bool { return q.id == p.id })
	same := func(q *profile) bool { return q.purpose == p.purpose && q.stack == p.stack }
	if evseID == 0 {
		s.profiles = append(dropProfiles(s.profiles, same), p)
		return
	}
	e := s.evses[evseID-1]
	e.profiles = append(dropProfiles(e.profiles, same), p)
}

// clearProfiles removes the profiles that match and reports whether any did.
// s.mu must be held.
func (s *Station) clearProfiles(match func(evseID int, p *profile) bool) bool {
	n := 0
	keep := func(evseID int, ps []*profile) []*profile {
		return dropProfiles(ps, func(p *profile) bool {
			if match(evseID, p) {
				n++
				return true
			}
			return false
		})
	}
	s.profiles = keep(0, s.profiles)
	for _, e := range s.evses {
		e.profiles = keep(e.id, e.profiles)
	}
	return n > 0
}

func dropProfiles(ps []*profile, drop func(*profile) bool) []*profile {
	out := ps[:0]
	for _, p := range ps {
		if !drop(p) {
			out = append(out, p)
		}
	}
	clear(ps[len(out):])
	if len(out) == 0 {
		return nil
	}
	return out
}

// dropTxProfiles removes the TxProfiles of a transaction that ended. s.mu
// must be held.
func (e *evse) dropTxProfiles() {
	e.profiles = dropProfiles(e.profiles, func(p *profile) bool { return p.purpose == purposeTx })
}
