package load

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openev/openev/ocpp"
)

// Stats aggregates what the stations observe. It implements sim.Observer.
// The hot path (CallDone) is lock-free: the per-action entries and error
// kinds live in copy-on-write maps behind atomic pointers, and a lock is
// taken only the first time an action or error kind shows up.
type Stats struct {
	start time.Time

	actions atomic.Pointer[map[string]*actionStats]
	errs    atomic.Pointer[map[string]*atomic.Int64]
	mu      sync.Mutex // serializes the copy-on-write of actions and errs

	// stopping is set when the run ends: calls cut short by the shutdown
	// are not the server's fault and are not counted.
	stopping    atomic.Bool
	calls       atomic.Int64 // finished calls, answered or not
	failed      atomic.Int64 // calls and steps that failed, and connect failures
	connected   atomic.Int64 // open connections now
	connects    atomic.Int64 // connections opened, reconnections included
	disconnects atomic.Int64
	all         Histogram // latency of every answered call
}

type actionStats struct {
	hist   Histogram // latency of answered calls (CALLERRORs included)
	calls  atomic.Int64
	failed atomic.Int64
}

// NewStats returns empty statistics whose clock starts now.
func NewStats() *Stats {
	s := &Stats{start: time.Now()}
	s.actions.Store(&map[string]*actionStats{})
	s.errs.Store(&map[string]*atomic.Int64{})
	return s
}

// CallDone records one CALL the station made: its latency counts when the
// server answered (a CALLERROR is an answer too); err, if any, is counted by
// kind (see ErrorKind). Calls that the end of the run cuts short are left
// out.
func (s *Stats) CallDone(action string, latency time.Duration, err error) {
	if err != nil && (s.stopping.Load() || errors.Is(err, context.Canceled)) {
		return
	}
	a := s.action(action)
	a.calls.Add(1)
	s.calls.Add(1)
	var oe *ocpp.Error
	if err == nil || errors.As(err, &oe) {
		a.hist.Record(latency)
		s.all.Record(latency)
	}
	if err != nil {
		a.failed.Add(1)
		s.Error(ErrorKind(err))
	}
}

// StateChanged tracks the number of open connections.
func (s *Stats) StateChanged(_ string, connected bool) {
	if connected {
		s.connected.Add(1)
		s.connects.Add(1)
	} else {
		s.connected.Add(-1)
		s.disconnects.Add(1)
	}
}

// Error counts one failure of the given kind (ErrorKind, "connect",
// "assertion", ...).
func (s *Stats) Error(kind string) {
	s.failed.Add(1)
	if c := (*s.errs.Load())[kind]; c != nil {
		c.Add(1)
		return
	}
	s.mu.Lock()
	m := *s.errs.Load()
	c := m[kind]
	if c == nil {
		c = new(atomic.Int64)
		next := maps.Clone(m)
		next[kind] = c
		s.errs.Store(&next)
	}
	s.mu.Unlock()
	c.Add(1)
}

func (s *Stats) action(name string) *actionStats {
	if a := (*s.actions.Load())[name]; a != nil {
		return a
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := *s.actions.Load()
	a := m[name]
	if a == nil {
		a = new(actionStats)
		next := maps.Clone(m)
		next[name] = a
		s.actions.Store(&next)
	}
	return a
}

// Calls is the number of finished calls.
func (s *Stats) Calls() int64 { return s.calls.Load() }

// Failed is the number of failures of every kind.
func (s *Stats) Failed() int64 { return s.failed.Load() }

// Connected is the number of connections open now.
func (s *Stats) Connected() int64 { return s.connected.Load() }

// Latency returns a snapshot of the latency of all answered calls.
func (s *Stats) Latency() *HistSnapshot { return s.all.Snapshot() }

// Errors returns the failure counts by kind.
func (s *Stats) Errors() map[string]int64 {
	out := map[string]int64{}
	for k, c := range *s.errs.Load() {
		out[k] = c.Load()
	}
	return out
}

// Actions returns the names of the actions seen so far, sorted.
func (s *Stats) Actions() []string {
	return slices.Sorted(maps.Keys(*s.actions.Load()))
}

// ErrorKind names the kind of a call's failure for the report:
// "CALLERROR <code>" for an answer with an error code, and "timeout",
// "closed", "not connected", "queue full", "connect", "canceled" or "other".
func ErrorKind(err error) string {
	var oe *ocpp.Error
	var de *ocpp.DialError
	switch {
	case errors.As(err, &oe):
		return "CALLERROR " + string(oe.Code)
	case errors.Is(err, ocpp.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, ocpp.ErrClosed):
		return "closed"
	case errors.Is(err, ocpp.ErrQueueFull):
		return "queue full"
	case errors.Is(err, ocpp.ErrNotConnected), errors.Is(err, ocpp.ErrNotConnectedYet):
		return "not connected"
	case errors.As(err, &de):
		return "connect"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "other"
}

// actionsSnapshot is every action's histogram and counts at one moment.
type actionsSnapshot struct {
	at    time.Time
	calls int64
	acts  map[string]actionSnap
}

type actionSnap struct {
	hist          *HistSnapshot
	calls, failed int64
}

func (s *Stats) snapshot() *actionsSnapshot {
	out := &actionsSnapshot{at: time.Now(), calls: s.calls.Load(), acts: map[string]actionSnap{}}
	for name, a := range *s.actions.Load() {
		out.acts[name] = actionSnap{hist: a.hist.Snapshot(), calls: a.calls.Load(), failed: a.failed.Load()}
	}
	return out
}
