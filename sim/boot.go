package sim

import (
	"context"
	"time"

	"github.com/openev/openev/ocpp"
)

// BootResult is the server's answer to BootNotification.
type BootResult struct {
	Status      string // Accepted, Pending, Rejected
	Interval    time.Duration
	CurrentTime time.Time
}

// bootRetry is the wait before a new BootNotification when a Pending or
// Rejected answer gave no interval.
const bootRetry = 10 * time.Second

// Boot sends BootNotification. On Accepted the station heartbeats at the
// server's interval, reports the status of every connector (1.6 connector 0
// first) and replays its offline queue. On Pending or Rejected it boots
// again after the interval, in the background, until Accepted.
func (s *Station) Boot(ctx context.Context) (BootResult, error) {
	var res BootResult
	var err error
	if s.cfg.Version == ocpp.V16 {
		res, err = s.boot16(ctx)
	} else {
		res, err = s.boot201(ctx)
	}
	if err != nil {
		return res, err
	}
	s.mu.Lock()
	stopTimer(s.bootTimer)
	s.bootTimer = nil
	if res.Status != "Accepted" {
		s.registered = false
		s.booting = true
		wait := res.Interval
		if wait <= 0 {
			wait = bootRetry
		}
		if !s.closed {
			s.bootTimer = time.AfterFunc(wait, s.bootAgain)
		}
		s.mu.Unlock()
		return res, nil
	}
	s.registered = true
	s.needBoot = false
	s.booting = false
	s.bootReason = "PowerUp"
	if res.Interval > 0 {
		s.settings.heartbeat = res.Interval
		s.hbInterval = res.Interval
	}
	s.restartHeartbeatLocked()
	s.mu.Unlock()
	if err := s.sendAllStatus(ctx, true); err != nil {
		s.log.Debug("status after boot failed", "station", s.cfg.Identity, "err", err)
	}
	go s.replay()
	return res, nil
}

// bootAgain retries a Pending or Rejected boot.
func (s *Station) bootAgain() {
	ctx, cancel := bg()
	defer cancel()
	if _, err := s.Boot(ctx); err != nil {
		s.mu.Lock()
		if !s.closed && s.conn != nil {
			s.bootTimer = time.AfterFunc(bootRetry, s.bootAgain)
		}
		s.mu.Unlock()
	}
}

// restartHeartbeatLocked (re)starts the heartbeat timer. s.mu must be held.
func (s *Station) restartHeartbeatLocked() {
	stopTimer(s.hbTimer)
	s.hbTimer = nil
	if s.hbInterval > 0 && !s.closed {
		s.hbTimer = time.AfterFunc(s.hbInterval, s.heartbeatTick)
	}
}

// heartbeatTick sends one Heartbeat (when online and registered) and
// schedules the next.
func (s *Station) heartbeatTick() {
	s.mu.Lock()
	send := s.conn != nil && s.registered && !s.closed
	s.mu.Unlock()
	if send {
		ctx, cancel := bg()
		if err := s.Heartbeat(ctx); err != nil {
			s.log.Debug("heartbeat failed", "station", s.cfg.Identity, "err", err)
		}
		cancel()
	}
	s.mu.Lock()
	if s.registered {
		s.restartHeartbeatLocked()
	}
	s.mu.Unlock()
}

// Heartbeat sends one Heartbeat. It fails with ErrOffline while disconnected.
func (s *Station) Heartbeat(ctx context.Context) error {
	if s.cfg.Version == ocpp.V16 {
		return s.heartbeat16(ctx)
	}
	return s.heartbeat201(ctx)
}

// reset reboots the station as a Reset asks: running transactions stop
// with reason (1.6 HardReset/SoftReset, 2.0.1 ImmediateReset), the
// connection closes, and after RebootDelay the station reconnects and boots.
func (s *Station) reset(reason string) {
	ctx, cancel := bg()
	defer cancel()
	for _, e := range s.evses {
		s.mu.Lock()
		busy := e.tx != nil
		s.mu.Unlock()
		if busy {
			if err := s.StopTransaction(ctx, e.id, reason); err != nil {
				s.log.Debug("stopping a transaction for reset failed", "station", s.cfg.Identity, "err", err)
			}
		}
	}
	s.mu.Lock()
	s.pendReset = ""
	s.needBoot = true
	s.registered = false
	s.bootReason = "RemoteReset"
	stopTimer(s.hbTimer)
	s.hbTimer = nil
	for _, e := range s.evses {
		e.reported = ""
	}
	s.offUntil = time.Now().Add(s.cfg.RebootDelay)
	c := s.conn
	s.mu.Unlock()
	if c != nil {
		c.Close(1012, "rebooting")
	} else {
		s.DropConnection(s.cfg.RebootDelay)
	}
}

// resetIfIdle carries out a reset that waited for the transactions to end
// (2.0.1 OnIdle).
func (s *Station) resetIfIdle() {
	s.mu.Lock()
	reason := s.pendReset
	for _, e := range s.evses {
		if e.tx != nil {
			reason = ""
		}
	}
	if reason != "" {
		s.pendReset = ""
	}
	s.mu.Unlock()
	if reason != "" {
		go s.reset(reason)
	}
}
