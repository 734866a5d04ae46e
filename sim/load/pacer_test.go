package load

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPacerRate(t *testing.T) {
	p := NewPacer(1000)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var n atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p.Wait(ctx) == nil {
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	// 500 ms at 1000/s plus a 100-slot burst: about 600; allow for timer slack.
	if got := n.Load(); got < 400 || got > 700 {
		t.Errorf("%d sends in 500ms at 1000/s", got)
	}
	if NewPacer(0) != nil || (*Pacer)(nil).Wait(context.Background()) != nil {
		t.Error("a zero rate must mean no pacing")
	}
}
