package sim

import (
	"time"

	"github.com/openev/openev/ocpp"
)

// This file holds what the server's requests make the station do, shared by
// both versions' routers. The routers answer first; these run afterwards.

// freeEVSE picks the EVSE for a remote start: n, or with n == 0 the first
// available EVSE without a transaction. nil if none fits.
func (s *Station) freeEVSE(n int) *evse {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n != 0 {
		e, err := s.evseAt(n)
		if err != nil || e.tx != nil || !e.operative {
			return nil
		}
		return e
	}
	for _, e := range s.evses {
		if e.tx == nil && e.operative {
			return e
		}
	}
	return nil
}

// evseOfTx finds the EVSE running transaction id.
func (s *Station) evseOfTx(id string) *evse {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.evses {
		if e.tx != nil && e.tx.id == id {
			return e
		}
	}
	return nil
}

// remoteStart plugs the EV in if needed and starts a transaction, after
// authorizing the token first if AuthorizeRemoteTxRequests asks for it.
func (s *Station) remoteStart(evseID int, idToken string, remoteStartID *int) {
	ctx, cancel := bg()
	defer cancel()
	s.mu.Lock()
	authorize := s.settings.authorizeRemote
	s.mu.Unlock()
	if authorize {
		st, err := s.Authorize(ctx, idToken)
		if err != nil || st != "Accepted" {
			s.log.Debug("remote start not authorized", "station", s.cfg.Identity, "status", st, "err", err)
			return
		}
	}
	if _, err := s.startTx(ctx, evseID, idToken, "RemoteStart", remoteStartID); err != nil {
		s.log.Debug("remote start failed", "station", s.cfg.Identity, "err", err)
	}
}

// remoteStop stops the transaction on an EVSE.
func (s *Station) remoteStop(evseID int, reason string) {
	ctx, cancel := bg()
	defer cancel()
	if err := s.StopTransaction(ctx, evseID, reason); err != nil {
		s.log.Debug("remote stop failed", "station", s.cfg.Identity, "err", err)
	}
}

// changeAvailability makes EVSE id (0 = all) operative or inoperative and
// reports the new statuses after the answer. An EVSE with a transaction
// becomes inoperative when it ends (answer Scheduled).
func (s *Station) changeAvailability(id int, operative bool) (status string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id < 0 || id > len(s.evses) {
		return "", false
	}
	status = "Accepted"
	for _, e := range s.evses {
		if id != 0 && e.id != id {
			continue
		}
		if !operative && e.tx != nil {
			e.pendingInoperative = true
			status = "Scheduled"
			continue
		}
		e.operative, e.pendingInoperative = operative, false
	}
	s.afterAnswer(func() {
		ctx, cancel := bg()
		defer cancel()
		_ = s.sendAllStatus(ctx, id == 0 && s.cfg.Version == ocpp.V16)
	})
	return status, true
}

// trigger sends the message a TriggerMessage asked for; evseID 0 = all.
func (s *Station) trigger(msg string, evseID int) {
	ctx, cancel := bg()
	defer cancel()
	var err error
	switch msg {
	case "BootNotification":
		s.mu.Lock()
		s.bootReason = "Triggered"
		s.mu.Unlock()
		_, err = s.Boot(ctx)
	case "Heartbeat":
		err = s.Heartbeat(ctx)
	case "StatusNotification":
		if evseID == 0 {
			err = s.sendAllStatus(ctx, true)
		} else {
			err = s.sendStatus(ctx, s.evses[evseID-1], true)
		}
	case "MeterValues", "TransactionEvent":
		for _, e := range s.evses {
			if evseID != 0 && e.id != evseID {
				continue
			}
			s.txMu.Lock()
			s.mu.Lock()
			tx := e.tx
			sm := s.sample(e, time.Now())
			s.mu.Unlock()
			switch {
			case s.cfg.Version == ocpp.V16:
				err = s.meter16(ctx, e, tx, reading{sm: sm, context: "Trigger"})
			case msg == "MeterValues":
				err = s.meterValues201(ctx, e, reading{sm: sm, context: "Trigger"})
			case tx != nil:
				err = s.event201(ctx, e, tx, "Updated", "Trigger", reading{sm: sm, context: "Trigger"}, "", false)
			}
			s.txMu.Unlock()
		}
	}
	if err != nil {
		s.log.Debug("triggered message failed", "station", s.cfg.Identity, "message", msg, "err", err)
	}
}
