package load

import (
	"context"
	"sync/atomic"
	"time"
)

// Pacer holds many stations together to a target rate of messages per
// second. Each Wait reserves the next free send slot (one every 1/rate) with
// a compare-and-swap and sleeps until it comes, so thousands of waiting
// stations cost no lock and are served in the order they asked. A short
// burst allowance lets stations that were idle catch up a little.
type Pacer struct {
	interval int64        // nanoseconds between sends
	burst    int64        // nanoseconds of unused slots that may be caught up
	next     atomic.Int64 // unix nanoseconds of the next free slot
}

// NewPacer returns a pacer for rate messages per second, or nil (no limit)
// when rate <= 0.
func NewPacer(rate float64) *Pacer {
	if rate <= 0 {
		return nil
	}
	iv := max(int64(float64(time.Second)/rate), 1)
	return &Pacer{interval: iv, burst: max(iv*int64(rate/10), iv)} // a tenth of a second's worth
}

// Wait blocks until the caller may send one message, or ctx ends. A nil
// Pacer never blocks.
func (p *Pacer) Wait(ctx context.Context) error {
	if p == nil {
		return ctx.Err()
	}
	now := time.Now().UnixNano()
	var slot int64
	for {
		n := p.next.Load()
		slot = max(n, now-p.burst)
		if p.next.CompareAndSwap(n, slot+p.interval) {
			break
		}
	}
	if d := time.Duration(slot - now); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return ctx.Err()
}
