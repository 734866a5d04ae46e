// Package throttle slows down guessing of secrets (station passwords, the
// admin API key).
package throttle

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Throttle slows down guessing: after a failed attempt for a key (a
// station identity, a remote address) the next attempt for it is refused
// until a delay has passed, and the delay doubles with each failure, up to
// a cap. A success clears the key. It is safe for concurrent use.
type Throttle struct {
	base, max time.Duration
	mu        sync.Mutex
	keys      map[string]*strikes
	lastSweep time.Time
}

type strikes struct {
	failures int
	until    time.Time
}

// New returns a Throttle whose first delay is base, doubling up to max.
func New(base, max time.Duration) *Throttle {
	return &Throttle{base: base, max: max, keys: make(map[string]*strikes)}
}

// Wait returns how long key must still wait before its next attempt.
func (t *Throttle) Wait(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.keys[key]; s != nil && now.Before(s.until) {
		return s.until.Sub(now)
	}
	return 0
}

// Fail records a failed attempt and returns the delay now imposed.
func (t *Throttle) Fail(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now)
	s := t.keys[key]
	if s == nil {
		s = &strikes{}
		t.keys[key] = s
	}
	s.failures++
	delay := t.base << min(s.failures-1, 20)
	if delay > t.max || delay <= 0 {
		delay = t.max
	}
	s.until = now.Add(delay)
	return delay
}

// Succeed forgets key's failures.
func (t *Throttle) Succeed(key string) {
	t.mu.Lock()
	delete(t.keys, key)
	t.mu.Unlock()
}

// sweep drops keys whose delay ended long ago, so that the map does not grow
// with every address that ever failed. t.mu must be held.
func (t *Throttle) sweep(now time.Time) {
	if now.Sub(t.lastSweep) < time.Minute {
		return
	}
	t.lastSweep = now
	for k, s := range t.keys {
		if now.Sub(s.until) > 10*t.max {
			delete(t.keys, k)
		}
	}
}

// RemoteHost is the address a request came from, without its port: the key
// that throttles guessing per address. A nil request has none ("").
func RemoteHost(r *http.Request) string {
	if r == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
