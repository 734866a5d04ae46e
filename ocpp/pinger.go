package ocpp

import (
	"sync"
	"time"
)

// pinger keeps a set of connections alive: it pings those that have been
// silent for PingInterval and closes those still silent PongTimeout after the
// ping. One goroutine serves the whole set, so an idle connection costs no
// timer or goroutine of its own; it runs only while the set is non-empty.
type pinger struct {
	opts    *Options
	mu      sync.Mutex
	conns   map[*Conn]struct{}
	running bool
}

func newPinger(opts *Options) *pinger {
	return &pinger{opts: opts, conns: make(map[*Conn]struct{})}
}

func (p *pinger) add(c *Conn) {
	if p.opts.PingInterval <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[c] = struct{}{}
	if !p.running {
		p.running = true
		go p.run()
	}
}

func (p *pinger) remove(c *Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *pinger) run() {
	tick := min(max(p.opts.PingInterval/10, 10*time.Millisecond), time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	var batch []*Conn
	for range t.C {
		p.mu.Lock()
		if len(p.conns) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		batch = batch[:0]
		for c := range p.conns {
			batch = append(batch, c)
		}
		p.mu.Unlock()
		now := time.Now()
		for _, c := range batch {
			p.check(c, now)
		}
	}
}

// check pings c if it has been silent for the ping interval, and closes it
// if it stayed silent for PongTimeout after a ping.
func (p *pinger) check(c *Conn, now time.Time) {
	seen := time.Unix(0, c.lastSeen.Load())
	pinged := time.Unix(0, c.lastPing.Load())
	if now.Sub(seen) < p.opts.PingInterval {
		return
	}
	if pinged.After(seen) {
		if now.Sub(pinged) >= p.opts.PongTimeout {
			c.Logger().Info("peer silent after a ping; closing", "silent_for", now.Sub(seen).Round(time.Millisecond))
			c.Close(closeGoingAway, "no answer to ping")
		}
		return
	}
	c.lastPing.Store(now.UnixNano())
	if err := c.wire.ping(); err != nil {
		c.Close(closeInternal, "ping failed")
	}
}
