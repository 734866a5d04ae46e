package load

import (
	"fmt"
	"io"
	"time"
)

// progress prints one status line a second: live (rewritten in place with a
// carriage return) on a terminal, or as plain lines for logs and pipes.
type progress struct {
	w        io.Writer
	live     bool
	every    int // print a plain line every that many ticks
	ticks    int
	target   int
	stats    *Stats
	lastHist *HistSnapshot
	lastN    int64
	lastT    time.Time
	// lastConnected, when set, replaces the live count (the final line,
	// printed while the stations are already closing).
	lastConnected int64
}

// line formats the status since the last call: connected/target, calls/s,
// errors so far, and the p99 of the calls answered in the last interval.
func (p *progress) line(now time.Time, started int) string {
	h := p.stats.Latency()
	recent := h.Sub(p.lastHist)
	n := p.stats.Calls()
	rate := 0.0
	if p.lastT.IsZero() {
		p.lastT = p.stats.start
	}
	if dt := now.Sub(p.lastT).Seconds(); dt > 0 {
		rate = float64(n-p.lastN) / dt
	}
	p.lastHist, p.lastN, p.lastT = h, n, now
	return fmt.Sprintf("%s  connected %d/%d (started %d)  calls/s %.0f  errors %d  p99 %s",
		now.Sub(p.stats.start).Truncate(time.Second), p.connected(), p.target, started, rate,
		p.stats.Failed(), fmtMS(ms(recent.Quantile(0.99))))
}

// tick is called once a second.
func (p *progress) tick(now time.Time, started int) {
	p.ticks++
	switch {
	case p.live:
		fmt.Fprintf(p.w, "\r\033[K%s", p.line(now, started))
	case p.ticks%p.every == 0:
		// Rates and p99 cover the time since the last line printed.
		fmt.Fprintln(p.w, p.line(now, started))
	}
}

// done ends the live line so that what follows starts on a fresh line.
func (p *progress) done() {
	if p.live && p.ticks > 0 {
		fmt.Fprintln(p.w)
	}
}

func (p *progress) connected() int64 {
	if p.lastConnected > 0 {
		return p.lastConnected
	}
	return p.stats.Connected()
}
