package load

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Tracer prints every call and connection change of the stations it
// observes, one line each, for --verbose runs and single stations.
type Tracer struct {
	mu      sync.Mutex
	w       io.Writer
	stopped bool
}

// NewTracer returns a tracer that writes to w.
func NewTracer(w io.Writer) *Tracer { return &Tracer{w: w} }

// Stop ends the output: a station reports its last disconnection
// asynchronously, possibly after its owner has moved on from w.
func (t *Tracer) Stop() {
	t.mu.Lock()
	t.stopped = true
	t.mu.Unlock()
}

func (t *Tracer) printf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		fmt.Fprintf(t.w, time.Now().Format("15:04:05.000")+"  "+format+"\n", args...)
	}
}

// CallDone prints one call (sim.Observer).
func (t *Tracer) CallDone(action string, latency time.Duration, err error) {
	t.callDone("", action, latency, err)
}

// StateChanged prints a connection change (sim.Observer).
func (t *Tracer) StateChanged(identity string, connected bool) {
	if connected {
		t.printf("%s connected", identity)
	} else {
		t.printf("%s disconnected", identity)
	}
}

func (t *Tracer) callDone(prefix, action string, latency time.Duration, err error) {
	if err != nil {
		t.printf("%s%s: %v (%v)", prefix, action, err, latency.Round(time.Microsecond))
		return
	}
	t.printf("%s%s: ok in %v", prefix, action, latency.Round(time.Microsecond))
}

// observers sends a station's observations to the stats and, when set, to
// a tracer with the station's identity in front.
type observers struct {
	identity string
	stats    *Stats
	trace    *Tracer
}

func (o *observers) CallDone(action string, latency time.Duration, err error) {
	o.stats.CallDone(action, latency, err)
	o.trace.callDone(o.identity+" ", action, latency, err)
}

func (o *observers) StateChanged(identity string, connected bool) {
	o.stats.StateChanged(identity, connected)
	o.trace.StateChanged(identity, connected)
}
