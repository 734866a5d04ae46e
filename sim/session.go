package sim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/openev/openev/ocpp"
)

// transaction is a charging session on one EVSE. Guarded by Station.mu.
type transaction struct {
	id            string // 2.0.1: our UUID; 1.6: the server's id, or "local-N" until it is known
	id16          int    // 1.6: the server's transactionId (0 = not known yet)
	idToken       string
	seq           int // 2.0.1: the next seqNo
	started       time.Time
	startWh       float64
	remoteStartID *int
	state         string // Charging, SuspendedEV, SuspendedEVSE (2.0.1 chargingState names)
	timer         *time.Timer
}

// chargingState names what the EV is doing, in 2.0.1's words (1.6's
// connector statuses use the same ones). s.mu must be held.
func chargingState(e *evse, sm Sample) string {
	switch {
	case sm.PowerW > 0:
		return "Charging"
	case sm.OfferedW <= 0:
		return "SuspendedEVSE"
	}
	return "SuspendedEV"
}

// Plug connects the EV to EVSE evse (1-based) and sends the status
// notifications of the version (1.6 Preparing, 2.0.1 Occupied). Offline, the
// state changes and the status is sent after the reconnection.
func (s *Station) Plug(ctx context.Context, evseID int) error {
	s.mu.Lock()
	e, err := s.evseAt(evseID)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if e.plugged {
		s.mu.Unlock()
		return nil
	}
	e.plugged = true
	e.finishing = false
	if e.tx != nil {
		// Back into a transaction that stayed open (StopTransactionOnEVSideDisconnect
		// false): the same EV resumes charging.
		e.meter.charging = true
		e.meter.last = time.Now()
	} else {
		e.meter.soc = s.cfg.EV.StartSoC
	}
	s.mu.Unlock()
	return s.sendStatus(ctx, e, false)
}

// Unplug disconnects the EV. A running transaction is stopped with reason
// EVDisconnected (unless StopTransactionOnEVSideDisconnect is false, when it
// stays open without energy flowing).
func (s *Station) Unplug(ctx context.Context, evseID int) error {
	s.mu.Lock()
	e, err := s.evseAt(evseID)
	if err != nil || !e.plugged {
		s.mu.Unlock()
		return err
	}
	// The cable is out before the transaction ends, so that the stop
	// reports the EV gone (2.0.1 chargingState Idle, 1.6 no Finishing).
	s.advance(e, time.Now())
	e.plugged = false
	e.finishing = false
	stop := e.tx != nil && s.settings.stopOnUnplug
	if e.tx != nil && !stop {
		e.meter.charging = false
	}
	s.mu.Unlock()
	if stop {
		return s.StopTransaction(ctx, evseID, "EVDisconnected")
	}
	return s.sendStatus(ctx, e, false)
}

// Authorize asks the server about an id token and returns its status
// (Accepted, Invalid, ...). It fails with ErrOffline while disconnected.
func (s *Station) Authorize(ctx context.Context, idToken string) (string, error) {
	if idToken == "" {
		idToken = s.cfg.IDTokens[0]
	}
	if s.cfg.Version == ocpp.V16 {
		return s.authorize16(ctx, idToken)
	}
	return s.authorize201(ctx, idToken)
}

// StartTransaction starts charging on EVSE evse (plugging the EV in first if
// needed) for idToken (default: the next of Config.IDTokens in turn). 1.6 sends
// StartTransaction and returns the server's transactionId; 2.0.1 sends
// TransactionEvent Started and returns our UUID. Meter values then flow at
// the meter interval. Offline, the message is queued; a 1.6 transaction then
// has the provisional id "local-N" until the replay gets the server's id
// (Snapshot shows it). If the server does not accept the token the
// transaction is stopped at once (DeAuthorized) and an error returned.
func (s *Station) StartTransaction(ctx context.Context, evseID int, idToken string) (string, error) {
	return s.startTx(ctx, evseID, idToken, "Authorized", nil)
}

func (s *Station) startTx(ctx context.Context, evseID int, idToken, trigger string, remoteStartID *int) (string, error) {
	s.mu.Lock()
	if idToken == "" {
		idToken = s.cfg.IDTokens[s.nextToken%len(s.cfg.IDTokens)]
		s.nextToken++
	}
	e, err := s.evseAt(evseID)
	if err == nil {
		switch {
		case e.tx != nil:
			err = fmt.Errorf("sim: EVSE %d already has transaction %s", evseID, e.tx.id)
		case !e.operative:
			err = fmt.Errorf("sim: EVSE %d is unavailable", evseID)
		}
	}
	plugged := err == nil && e.plugged
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	if !plugged {
		if err := s.Plug(ctx, evseID); err != nil {
			return "", err
		}
	}
	s.txMu.Lock()
	s.mu.Lock()
	if e.tx != nil {
		s.mu.Unlock()
		s.txMu.Unlock()
		return "", fmt.Errorf("sim: EVSE %d already has transaction %s", evseID, e.tx.id)
	}
	now := time.Now()
	tx := &transaction{idToken: idToken, started: now, remoteStartID: remoteStartID, state: "Charging"}
	if s.cfg.Version != ocpp.V16 {
		tx.id = newUUID()
	}
	s.advance(e, now)
	e.meter.charging = true
	e.meter.last = now
	e.tx = tx
	e.finishing = false
	sm := s.sample(e, now)
	tx.startWh = sm.EnergyWh
	s.mu.Unlock()
	var auth string
	if s.cfg.Version == ocpp.V16 {
		auth, err = s.start16(ctx, e, tx, sm)
	} else {
		auth, err = s.start201(ctx, e, tx, sm, trigger)
	}
	s.txMu.Unlock()
	if err != nil {
		s.mu.Lock()
		if e.tx == tx {
			e.tx = nil
			e.meter.charging = false
		}
		s.mu.Unlock()
		return "", err
	}
	if s.cfg.Version == ocpp.V16 {
		if err := s.sendStatus(ctx, e, false); err != nil && !isConnErr(err) {
			s.log.Debug("status after start failed", "station", s.cfg.Identity, "err", err)
		}
	}
	s.mu.Lock()
	id := tx.id
	if e.tx == tx {
		s.armMeterLocked(e, tx)
	}
	s.mu.Unlock()
	if auth != "" && auth != "Accepted" {
		if err := s.StopTransaction(ctx, evseID, "DeAuthorized"); err != nil {
			s.log.Debug("stopping a refused transaction failed", "station", s.cfg.Identity, "err", err)
		}
		return id, fmt.Errorf("sim: server answered %s for id token %s; transaction %s stopped", auth, idToken, id)
	}
	return id, nil
}

// StopTransaction stops the transaction on EVSE evse with a reason in the
// version's words (1.6 Reason / 2.0.1 ReasonEnum: Local, Remote,
// EVDisconnected, ...; default Local), with the final meter reading.
func (s *Station) StopTransaction(ctx context.Context, evseID int, reason string) error {
	if reason == "" {
		reason = "Local"
	}
	if err := s.checkReason(reason); err != nil {
		return err
	}
	s.txMu.Lock()
	s.mu.Lock()
	e, err := s.evseAt(evseID)
	if err == nil && e.tx == nil {
		err = fmt.Errorf("sim: EVSE %d has no transaction", evseID)
	}
	if err != nil {
		s.mu.Unlock()
		s.txMu.Unlock()
		return err
	}
	tx := e.tx
	now := time.Now()
	sm := s.sample(e, now)
	e.meter.charging = false
	e.meter.powerW = 0
	stopTimer(tx.timer)
	e.tx = nil
	e.finishing = e.plugged
	e.dropTxProfiles()
	if e.pendingInoperative {
		e.operative, e.pendingInoperative = false, false
	}
	s.mu.Unlock()
	if s.cfg.Version == ocpp.V16 {
		err = s.stop16(ctx, e, tx, sm, reason)
	} else {
		err = s.stop201(ctx, e, tx, sm, reason)
	}
	s.txMu.Unlock()
	if err != nil {
		return err
	}
	if serr := s.sendStatus(ctx, e, false); serr != nil && !isConnErr(serr) {
		s.log.Debug("status after stop failed", "station", s.cfg.Identity, "err", serr)
	}
	s.resetIfIdle()
	return nil
}

var (
	reasons16  = []string{"EmergencyStop", "EVDisconnected", "HardReset", "Local", "Other", "PowerLoss", "Reboot", "Remote", "SoftReset", "UnlockCommand", "DeAuthorized"}
	reasons201 = []string{"DeAuthorized", "EmergencyStop", "EnergyLimitReached", "EVDisconnected", "GroundFault", "ImmediateReset", "Local", "LocalOutOfCredit", "MasterPass", "Other", "OvercurrentFault", "PowerLoss", "PowerQuality", "Reboot", "Remote", "SOCLimitReached", "StoppedByEV", "TimeLimitReached", "Timeout"}
)

func (s *Station) checkReason(r string) error {
	list := reasons201
	if s.cfg.Version == ocpp.V16 {
		list = reasons16
	}
	if !contains(list, r) {
		return fmt.Errorf("sim: %q is not an OCPP %s stop reason", r, s.cfg.Version)
	}
	return nil
}

// armMeterLocked schedules the transaction's next periodic meter value.
// s.mu must be held.
func (s *Station) armMeterLocked(e *evse, tx *transaction) {
	if d := s.settings.meterInterval; d > 0 && !s.closed {
		tx.timer = time.AfterFunc(d, func() { s.meterTick(e, tx) })
	}
}

// meterTick sends one periodic meter value of a running transaction.
func (s *Station) meterTick(e *evse, tx *transaction) {
	s.txMu.Lock()
	s.mu.Lock()
	if e.tx != tx || s.closed {
		s.mu.Unlock()
		s.txMu.Unlock()
		return
	}
	sm := s.sample(e, time.Now())
	state := chargingState(e, sm)
	changed := state != tx.state
	tx.state = state
	s.mu.Unlock()
	ctx, cancel := bg()
	defer cancel()
	var err error
	if s.cfg.Version == ocpp.V16 {
		err = s.meter16(ctx, e, tx, reading{sm: sm, context: "Sample.Periodic"})
	} else {
		trigger := "MeterValuePeriodic"
		if changed {
			trigger = "ChargingStateChanged"
		}
		err = s.event201(ctx, e, tx, "Updated", trigger, reading{sm: sm, context: "Sample.Periodic"}, "", changed)
	}
	s.txMu.Unlock()
	if err != nil {
		s.log.Debug("meter value failed", "station", s.cfg.Identity, "err", err)
	}
	if changed && s.cfg.Version == ocpp.V16 {
		_ = s.sendStatus(ctx, e, false)
	}
	s.mu.Lock()
	if e.tx == tx {
		s.armMeterLocked(e, tx)
	}
	s.mu.Unlock()
}

// status16Of and status201Of are an EVSE's connector status. s.mu must be held.
func status16Of(e *evse) string {
	switch {
	case !e.operative && e.tx == nil:
		return "Unavailable"
	case e.tx != nil && !e.plugged:
		return "SuspendedEV"
	case e.tx != nil:
		return e.tx.state
	case e.plugged && e.finishing:
		return "Finishing"
	case e.plugged:
		return "Preparing"
	}
	return "Available"
}

func status201Of(e *evse) string {
	switch {
	case !e.operative && e.tx == nil:
		return "Unavailable"
	case e.plugged:
		return "Occupied"
	}
	return "Available"
}

// sendStatus reports EVSE e's status if it changed since the last report
// (or always, with force). Offline it only remembers that a report is due.
func (s *Station) sendStatus(ctx context.Context, e *evse, force bool) error {
	s.mu.Lock()
	st := status201Of(e)
	if s.cfg.Version == ocpp.V16 {
		st = status16Of(e)
	}
	if st == e.reported && !force || s.conn == nil {
		s.mu.Unlock()
		return nil
	}
	e.reported = st
	s.mu.Unlock()
	var err error
	if s.cfg.Version == ocpp.V16 {
		err = s.status16(ctx, e.id, st)
	} else {
		for c := 1; c <= e.connectors && err == nil; c++ {
			err = s.status201(ctx, e.id, c, st)
		}
	}
	if err != nil {
		s.mu.Lock()
		e.reported = "" // report again next time
		s.mu.Unlock()
	}
	return err
}

// sendAllStatus reports every connector (1.6 with connector 0 first), as a
// station does after it booted.
func (s *Station) sendAllStatus(ctx context.Context, force bool) error {
	if s.cfg.Version == ocpp.V16 && force {
		s.mu.Lock()
		st := "Available"
		if !s.anyOperative() {
			st = "Unavailable"
		}
		s.mu.Unlock()
		if err := s.status16(ctx, 0, st); err != nil {
			return err
		}
	}
	var errs []error
	for _, e := range s.evses {
		errs = append(errs, s.sendStatus(ctx, e, force))
	}
	return errors.Join(errs...)
}

func (s *Station) anyOperative() bool {
	for _, e := range s.evses {
		if e.operative {
			return true
		}
	}
	return false
}

// EVSESnapshot is one EVSE's state.
type EVSESnapshot struct {
	ID            int
	Connectors    int
	Status        string // connector status in the version's words
	Plugged       bool
	Available     bool
	TransactionID string  // "" when none
	SeqNo         int     // 2.0.1: seqNo of the next TransactionEvent
	EnergyWh      float64 // meter register
	PowerW        float64
	LimitW        float64 // charging-profile limit now, -1 when none
	SoC           float64 // percent, 0 when no EV is plugged
}

// Snapshot is a station's state at one moment.
type Snapshot struct {
	Identity   string
	Version    ocpp.Version
	Connected  bool
	Registered bool // the last BootNotification was Accepted
	Heartbeat  time.Duration
	EVSEs      []EVSESnapshot
	Queued     int               // transaction messages waiting for a connection
	Config     map[string]string // 1.6 configuration keys or 2.0.1 "Component/Variable" values
}

// Snapshot returns the station's current state; the meters are brought up
// to now.
func (s *Station) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	snap := Snapshot{
		Identity:   s.cfg.Identity,
		Version:    s.cfg.Version,
		Connected:  s.conn != nil,
		Registered: s.registered,
		Heartbeat:  s.hbInterval,
		Queued:     len(s.queue),
		Config:     make(map[string]string),
	}
	for _, e := range s.evses {
		sm := s.sample(e, now)
		es := EVSESnapshot{ID: e.id, Connectors: e.connectors, Plugged: e.plugged, Available: e.operative,
			EnergyWh: sm.EnergyWh, PowerW: sm.PowerW, SoC: sm.SoC, LimitW: -1}
		if s.cfg.Version == ocpp.V16 {
			es.Status = status16Of(e)
		} else {
			es.Status = status201Of(e)
		}
		if e.tx != nil {
			es.TransactionID = e.tx.id
			es.SeqNo = e.tx.seq
		}
		if l, ok := s.limitAt(e, now); ok {
			es.LimitW = l
		}
		snap.EVSEs = append(snap.EVSEs, es)
	}
	for i := range settingTable {
		st := &settingTable[i]
		switch {
		case s.cfg.Version == ocpp.V16 && st.key != "":
			snap.Config[st.key] = st.value(s)
		case s.cfg.Version != ocpp.V16 && st.comp != "":
			snap.Config[st.comp+"/"+st.name] = st.value(s)
		}
	}
	return snap
}
