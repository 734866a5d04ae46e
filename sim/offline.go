package sim

import (
	"context"
	"errors"

	"github.com/openev/openev/ocpp"
)

// queued is a transaction message waiting for a connection. send builds the
// payload when it runs, so that a 1.6 message can carry the transactionId
// the server gave a StartTransaction that was itself queued.
type queued struct {
	action string
	send   func(ctx context.Context, c *ocpp.Conn) error
}

// maxQueue bounds the offline queue; beyond it the oldest messages are
// dropped, as a charger with a full memory would.
const maxQueue = 10000

// txSend sends a transaction-related message, or queues it when the station
// is offline or older messages are still waiting, so that the server gets
// transaction messages in the order they happened. markOffline runs when the
// message is queued because the station is offline (2.0.1 sets offline=true).
// It reports whether the message was queued; a queued message is not an error.
func (s *Station) txSend(ctx context.Context, action string, markOffline func(), send func(context.Context, *ocpp.Conn) error) (bool, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false, ErrClosed
	}
	c := s.conn
	if c == nil || len(s.queue) > 0 || s.replaying {
		if c == nil && markOffline != nil {
			markOffline()
		}
		s.enqueueLocked(queued{action: action, send: send})
		kick := c != nil && !s.replaying
		s.mu.Unlock()
		if kick {
			go s.replay()
		}
		return true, nil
	}
	s.mu.Unlock()
	err := send(ctx, c)
	if !isConnErr(err) {
		return false, err
	}
	// The connection went away under the message: keep it for the replay.
	s.mu.Lock()
	if markOffline != nil {
		markOffline()
	}
	s.queue = append([]queued{{action: action, send: send}}, s.queue...)
	s.mu.Unlock()
	return true, nil
}

func (s *Station) enqueueLocked(q queued) {
	if len(s.queue) >= maxQueue {
		s.log.Warn("offline queue full; dropping the oldest message", "station", s.cfg.Identity, "action", s.queue[0].action)
		s.queue[0] = queued{}
		s.queue = s.queue[1:]
	}
	s.queue = append(s.queue, q)
}

// replay sends the queued messages in order. It stops, keeping the rest,
// when the connection goes; a message the server refuses (CALLERROR) or does
// not answer is dropped, as retrying it would block the queue for good.
func (s *Station) replay() {
	s.mu.Lock()
	if s.replaying {
		s.mu.Unlock()
		return
	}
	s.replaying = true
	s.mu.Unlock()
	for {
		s.mu.Lock()
		c := s.conn
		if c == nil || len(s.queue) == 0 || s.closed {
			s.replaying = false
			if len(s.queue) == 0 {
				s.queue = nil
			}
			s.mu.Unlock()
			return
		}
		q := s.queue[0]
		s.mu.Unlock()
		ctx, cancel := bg()
		err := q.send(ctx, c)
		cancel()
		if isConnErr(err) {
			s.mu.Lock()
			s.replaying = false
			s.mu.Unlock()
			return
		}
		var oe *ocpp.Error
		if err != nil && !errors.As(err, &oe) {
			s.log.Warn("queued message failed; dropping it", "station", s.cfg.Identity, "action", q.action, "err", err)
		}
		s.mu.Lock()
		s.queue[0] = queued{}
		s.queue = s.queue[1:]
		s.mu.Unlock()
	}
}

// QueueLen returns how many transaction messages wait for a connection.
func (s *Station) QueueLen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}
