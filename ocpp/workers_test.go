package ocpp

import (
	"sync"
	"testing"
	"time"
)

func idleWorkers(p *workerPool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

func TestWorkerPoolReusesAParkedWorker(t *testing.T) {
	p := &workerPool{idleFor: time.Minute, maxIdle: 4}
	done := make(chan struct{})
	p.run(func() { done <- struct{}{} })
	<-done
	waitFor(t, "the worker to park", func() bool { return idleWorkers(p) == 1 })
	var second chan func()
	p.mu.Lock()
	second = p.idle[0]
	p.mu.Unlock()
	p.run(func() { done <- struct{}{} })
	<-done
	// The second job took the parked worker (no second one was started):
	// the same worker, with the same channel, parks again, and no other.
	waitFor(t, "the worker to park again", func() bool { return idleWorkers(p) == 1 })
	time.Sleep(20 * time.Millisecond)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) != 1 || p.idle[0] != second {
		t.Fatalf("%d workers parked (want the first one again, alone)", len(p.idle))
	}
}

func TestWorkerPoolParksAtMostMaxIdleAndExpiresThem(t *testing.T) {
	p := &workerPool{idleFor: 50 * time.Millisecond, maxIdle: 3}
	var started, release sync.WaitGroup
	release.Add(1)
	for range 10 {
		started.Add(1)
		p.run(func() { started.Done(); release.Wait() })
	}
	started.Wait() // ten jobs at once: ten workers
	release.Done()
	waitFor(t, "three workers to park", func() bool { return idleWorkers(p) == 3 })
	time.Sleep(20 * time.Millisecond)
	if n := idleWorkers(p); n != 3 {
		t.Fatalf("%d workers parked, want at most 3", n)
	}
	waitFor(t, "parked workers to exit after idleFor", func() bool { return idleWorkers(p) == 0 })
	ran := make(chan struct{})
	p.run(func() { close(ran) })
	<-ran // a pool whose workers all left still runs jobs
}
