package ocpp

import (
	"sync"
	"time"
)

// workers runs the connections' handler loops (Conn.serveInbox) on
// goroutines that outlive one loop. A fresh goroutine per burst of CALLs
// would start with a small stack and grow it (copying) on every CALL, since
// a handler's call chain — decode, handler, encode, socket write — is deep;
// a worker keeps its grown stack. Idle workers wait up to idleFor for the
// next job and then exit, so an idle server holds none, and at most
// maxIdle wait at once, so a burst does not leave thousands behind.
type workerPool struct {
	idleFor time.Duration // how long a parked worker waits before it exits
	maxIdle int           // how many workers may be parked at once

	mu   sync.Mutex
	idle []chan func() // parked workers, most recently parked last
}

// workers serves every Conn of the process, as the nbio engine does.
var workers = workerPool{idleFor: 10 * time.Second, maxIdle: 256}

// run runs job on a parked worker, or on a new one if none is parked.
func (p *workerPool) run(job func()) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		ch := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		ch <- job
		return
	}
	p.mu.Unlock()
	go p.work(job)
}

func (p *workerPool) work(job func()) {
	var ch chan func()
	var timer *time.Timer
	for {
		job()
		if ch == nil {
			ch = make(chan func(), 1)
		}
		if !p.park(ch) {
			return
		}
		if timer == nil {
			timer = time.NewTimer(p.idleFor)
		} else {
			timer.Reset(p.idleFor)
		}
		select {
		case job = <-ch:
			timer.Stop()
		case <-timer.C:
			if !p.unpark(ch) {
				job = <-ch // taken from the list just now: its job is on the way
				continue
			}
			return
		}
	}
}

// park puts ch on the idle list unless the list is full.
func (p *workerPool) park(ch chan func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) >= p.maxIdle {
		return false
	}
	p.idle = append(p.idle, ch)
	return true
}

// unpark removes ch from the idle list; false means run took it already.
func (p *workerPool) unpark(ch chan func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, c := range p.idle {
		if c == ch {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return true
		}
	}
	return false
}
