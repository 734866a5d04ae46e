package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/openev/openev/ocpp"
)

// Connect opens the first connection and returns its error. After it
// succeeds the station keeps reconnecting, with exponential backoff and
// jitter, whenever the connection is lost, until Close. After each
// reconnection it boots again if a Reset asked for it, then replays its
// offline queue. A failed first connection is not retried: call Connect again.
func (s *Station) Connect(ctx context.Context) error {
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return ErrClosed
	case s.conn != nil:
		s.mu.Unlock()
		return fmt.Errorf("sim: station %s is already connected", s.cfg.Identity)
	case s.started:
		s.mu.Unlock()
		return fmt.Errorf("sim: station %s is already reconnecting in the background", s.cfg.Identity)
	}
	s.mu.Unlock()
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.started = true
	s.backoff = s.cfg.MinBackoff
	s.mu.Unlock()
	s.attach(c)
	return nil
}

// dial opens one connection in the station's version.
func (s *Station) dial(ctx context.Context) (*ocpp.Conn, error) {
	c, err := s.dialer.Dial(ctx, s.cfg.URL, s.cfg.Identity, (*handler)(s))
	if err != nil {
		return nil, err
	}
	if c.Version() != s.cfg.Version {
		c.Close(1002, "wrong OCPP version")
		return nil, fmt.Errorf("sim: server chose OCPP %s, station %s speaks %s", c.Version(), s.cfg.Identity, s.cfg.Version)
	}
	if s.cfg.Faults.SkipValidation || s.hasQuirk(QuirkOverlongFields) || s.hasQuirk(QuirkLowercaseEnums) {
		c.SetValidation(ocpp.Off)
	}
	return c, nil
}

// attach makes c the station's connection and arranges for lost to run when
// it closes. context.AfterFunc needs no goroutine while the connection lives.
func (s *Station) attach(c *ocpp.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.Close(1000, "station stopping")
		return
	}
	s.conn = c
	s.mu.Unlock()
	if s.cfg.Observer != nil {
		s.cfg.Observer.StateChanged(s.cfg.Identity, true)
	}
	s.log.Debug("connected", "station", s.cfg.Identity)
	context.AfterFunc(c.Context(), func() { s.lost(c) })
}

// lost runs when connection c has closed: it schedules the reconnection.
func (s *Station) lost(c *ocpp.Conn) {
	s.mu.Lock()
	if s.conn != c {
		s.mu.Unlock()
		return
	}
	s.conn = nil
	if s.closed || !s.started {
		s.mu.Unlock()
		s.notifyState(false)
		return
	}
	wait := s.nextBackoffLocked()
	if d := time.Until(s.offUntil); d > 0 {
		wait = d
	}
	s.reconnect = time.AfterFunc(wait, s.redial)
	s.mu.Unlock()
	s.log.Debug("connection lost", "station", s.cfg.Identity, "err", c.Err(), "retry_in", wait)
	s.notifyState(false)
}

func (s *Station) notifyState(connected bool) {
	if s.cfg.Observer != nil {
		s.cfg.Observer.StateChanged(s.cfg.Identity, connected)
	}
}

// nextBackoffLocked returns a jittered wait and doubles the backoff.
func (s *Station) nextBackoffLocked() time.Duration {
	b := s.backoff
	if b <= 0 {
		b = s.cfg.MinBackoff
	}
	s.backoff = min(b*2, s.cfg.MaxBackoff)
	return b/2 + rand.N(b/2+1)
}

// redial is the reconnection timer's function: one attempt, then either
// the station is online again or the next attempt is scheduled.
func (s *Station) redial() {
	s.mu.Lock()
	if s.closed || s.conn != nil {
		s.mu.Unlock()
		return
	}
	if d := time.Until(s.offUntil); d > 0 {
		s.reconnect = time.AfterFunc(d, s.redial)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	c, err := s.dial(ctx)
	cancel()
	if err != nil {
		s.mu.Lock()
		if !s.closed {
			wait := s.nextBackoffLocked()
			s.reconnect = time.AfterFunc(wait, s.redial)
			s.log.Debug("reconnection failed", "station", s.cfg.Identity, "err", err, "retry_in", wait)
		}
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	s.backoff = s.cfg.MinBackoff
	needBoot := s.needBoot || !s.registered && s.booting
	s.mu.Unlock()
	s.attach(c)
	s.online(needBoot)
}

// online runs after a reconnection: boot if needed, then replay the queue.
func (s *Station) online(needBoot bool) {
	if needBoot {
		ctx, cancel := bg()
		_, err := s.Boot(ctx)
		cancel()
		if err != nil {
			s.log.Debug("boot after reconnection failed", "station", s.cfg.Identity, "err", err)
		}
		return // an Accepted boot replays the queue and reports every status
	}
	s.replay()
	// Statuses that changed while offline are reported once the queued
	// transaction messages are in.
	ctx, cancel := bg()
	defer cancel()
	if err := s.sendAllStatus(ctx, false); err != nil {
		s.log.Debug("status after reconnection failed", "station", s.cfg.Identity, "err", err)
	}
}

// DropConnection loses the connection on purpose and stays offline for
// offlineFor before reconnecting (with backoff if that fails). Transaction
// messages made meanwhile are queued and replayed after the reconnection.
func (s *Station) DropConnection(offlineFor time.Duration) {
	s.mu.Lock()
	s.offUntil = time.Now().Add(offlineFor)
	c := s.conn
	if c == nil && s.started && !s.closed {
		stopTimer(s.reconnect)
		s.reconnect = time.AfterFunc(offlineFor, s.redial)
	}
	s.mu.Unlock()
	if c != nil {
		c.Close(1001, "simulated connection loss")
	}
}

// handler answers the server's CALLs for a station. It is the Station
// itself under another type, so that a station costs no extra allocation.
type handler Station

// ServeOCPP applies the response faults and dispatches to the version's
// router, which answers NotSupported for actions the station does not do.
func (h *handler) ServeOCPP(ctx context.Context, c *ocpp.Conn, action string, payload json.RawMessage) (any, error) {
	s := (*Station)(h)
	f := &s.cfg.Faults
	if f.NoResponse[action] || f.NoResponse["*"] {
		<-ctx.Done() // the connection closed: the answer is never written
		return nil, ctx.Err()
	}
	d, ok := f.ResponseDelay[action]
	if !ok {
		d = f.ResponseDelay["*"]
	}
	if d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	ctx = context.WithValue(ctx, stationKey{}, s)
	if s.cfg.Version == ocpp.V16 {
		return router16.ServeOCPP(ctx, c, action, payload)
	}
	return router201.ServeOCPP(ctx, c, action, payload)
}

type stationKey struct{}

// stationOf returns the station a handler runs for.
func stationOf(ctx context.Context) *Station { return ctx.Value(stationKey{}).(*Station) }

// afterAnswer runs fn shortly after a handler returns, once its answer is on
// the wire: a real charger answers a RemoteStart before it starts, and a
// Reset before it reboots.
func (s *Station) afterAnswer(fn func()) {
	time.AfterFunc(afterAnswerDelay, fn)
}

const afterAnswerDelay = 20 * time.Millisecond

// resetAfter is how long a Reset waits before it drops the connection: long
// enough for the Accepted answer to be written even on a loaded machine (a
// lost answer would leave the server guessing), and a real charger takes
// longer than that to shut down anyway.
const resetAfter = 250 * time.Millisecond

// isConnErr tells the errors that mean the message may not have reached the
// server because the connection is gone.
func isConnErr(err error) bool {
	return errors.Is(err, ErrOffline) || errors.Is(err, ocpp.ErrClosed)
}
