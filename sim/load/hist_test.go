package load

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	prev := -1
	for us := uint64(0); us < 1<<22; us += 1 + us/50 {
		b := bucketOf(us)
		if b < prev {
			t.Fatalf("bucketOf(%d) = %d < %d: not monotonic", us, b, prev)
		}
		prev = b
		if hi := bucketHigh(b); hi < us || float64(hi-us) > float64(us)/float64(subCount)+1 {
			t.Fatalf("bucketHigh(bucketOf(%d)) = %d: outside the bucket or too coarse", us, hi)
		}
	}
	if b := bucketOf(1 << 62); b != numBuckets-1 {
		t.Errorf("huge value bucket = %d", b)
	}
}

func TestQuantiles(t *testing.T) {
	var h Histogram
	r := rand.New(rand.NewPCG(1, 2))
	var vals []time.Duration
	for range 100000 {
		d := time.Duration(r.ExpFloat64() * float64(5*time.Millisecond))
		vals = append(vals, d)
		h.Record(d)
	}
	slices.Sort(vals)
	s := h.Snapshot()
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := vals[int(q*float64(len(vals)))-1]
		got := s.Quantile(q)
		if rel := float64(got-exact) / float64(exact); rel < -0.01 || rel > 0.05 {
			t.Errorf("p%v = %v, exact %v (off by %.1f%%)", q*100, got, exact, rel*100)
		}
	}
	if s.Quantile(1) != h.Max() || h.Max() != vals[len(vals)-1].Truncate(time.Microsecond) {
		t.Errorf("max %v, p100 %v, want %v", h.Max(), s.Quantile(1), vals[len(vals)-1])
	}
	if h.Count() != 100000 {
		t.Errorf("count %d", h.Count())
	}
	var empty Histogram
	if empty.Snapshot().Quantile(0.99) != 0 || empty.Mean() != 0 {
		t.Error("empty histogram")
	}
}

func TestSnapshotSub(t *testing.T) {
	var h Histogram
	h.Record(time.Millisecond)
	a := h.Snapshot()
	h.Record(100 * time.Millisecond)
	h.Record(100 * time.Millisecond)
	d := h.Snapshot().Sub(a)
	if d.Count() != 2 || d.Quantile(0.5) < 99*time.Millisecond {
		t.Errorf("delta count %d p50 %v", d.Count(), d.Quantile(0.5))
	}
}
