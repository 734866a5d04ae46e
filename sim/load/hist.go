package load

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// The histogram is log-linear, as in HdrHistogram: values (microseconds)
// below 2^subBits+1 have a bucket each, larger ones fall into 2^subBits
// buckets per power of two. With subBits = 5 a percentile is off by at most
// 1/32 (about 3 %) and the whole range up to hours fits in 1200 buckets.
const (
	subBits    = 5
	subCount   = 1 << subBits // buckets per power of two
	exactLimit = 2 * subCount // values below this are exact
	maxShift   = 36           // 2^(36+6) µs is about 50 days
	numBuckets = exactLimit + maxShift*subCount
)

// Histogram counts durations in log-linear buckets. Record is lock-free and
// safe for concurrent use; the zero value is ready.
type Histogram struct {
	counts [numBuckets]atomic.Uint64
	total  atomic.Uint64
	sumUS  atomic.Uint64
	maxUS  atomic.Uint64
}

func bucketOf(us uint64) int {
	if us < exactLimit {
		return int(us)
	}
	shift := bits.Len64(us) - (subBits + 1) // >= 1: leaves subBits+1 significant bits
	if shift > maxShift {
		return numBuckets - 1
	}
	mant := us >> shift // in [subCount, 2*subCount)
	return exactLimit + (shift-1)*subCount + int(mant-subCount)
}

// bucketHigh is the largest value that falls into bucket i; percentiles
// report it, so they err on the side of slower.
func bucketHigh(i int) uint64 {
	if i < exactLimit {
		return uint64(i)
	}
	shift := (i-exactLimit)/subCount + 1
	mant := uint64((i-exactLimit)%subCount + subCount)
	return (mant+1)<<shift - 1
}

// Record adds one duration.
func (h *Histogram) Record(d time.Duration) {
	us := uint64(max(d, 0) / time.Microsecond)
	h.counts[bucketOf(us)].Add(1)
	h.total.Add(1)
	h.sumUS.Add(us)
	for {
		m := h.maxUS.Load()
		if us <= m || h.maxUS.CompareAndSwap(m, us) {
			break
		}
	}
}

// Count is the number of recorded durations.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Max is the largest recorded duration.
func (h *Histogram) Max() time.Duration { return time.Duration(h.maxUS.Load()) * time.Microsecond }

// Mean is the average recorded duration.
func (h *Histogram) Mean() time.Duration {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sumUS.Load()/n) * time.Microsecond
}

// Snapshot copies the bucket counts, so that several percentiles can be read
// from one consistent-enough view while recording goes on.
func (h *Histogram) Snapshot() *HistSnapshot {
	s := &HistSnapshot{max: h.maxUS.Load(), sum: h.sumUS.Load()}
	for i := range h.counts {
		c := h.counts[i].Load()
		s.counts[i] = c
		s.total += c
	}
	return s
}

// HistSnapshot is a copy of a Histogram's buckets.
type HistSnapshot struct {
	counts [numBuckets]uint64
	total  uint64
	sum    uint64 // microseconds
	max    uint64 // microseconds; of a difference, the upper edge of its top bucket
}

// Sub returns s minus an earlier snapshot: the durations recorded between
// the two (the live progress line shows the last second's p99).
func (s *HistSnapshot) Sub(earlier *HistSnapshot) *HistSnapshot {
	d := &HistSnapshot{max: s.max}
	if earlier == nil {
		*d = *s
		return d
	}
	top := -1
	for i := range s.counts {
		d.counts[i] = s.counts[i] - earlier.counts[i]
		d.total += d.counts[i]
		if d.counts[i] > 0 {
			top = i
		}
	}
	d.sum = s.sum - earlier.sum
	if top >= 0 {
		d.max = min(bucketHigh(top), s.max)
	}
	return d
}

// Add merges o into s.
func (s *HistSnapshot) Add(o *HistSnapshot) {
	for i := range s.counts {
		s.counts[i] += o.counts[i]
	}
	s.total += o.total
	s.sum += o.sum
	s.max = max(s.max, o.max)
}

// Mean is the average duration in the snapshot.
func (s *HistSnapshot) Mean() time.Duration {
	if s.total == 0 {
		return 0
	}
	return time.Duration(s.sum/s.total) * time.Microsecond
}

// Max is the largest duration in the snapshot.
func (s *HistSnapshot) Max() time.Duration { return time.Duration(s.max) * time.Microsecond }

// Count is the number of durations in the snapshot.
func (s *HistSnapshot) Count() uint64 { return s.total }

// Quantile returns the duration below which the fraction q (0..1) of the
// recorded durations fall, rounded up to its bucket's upper edge and capped
// at the maximum seen.
func (s *HistSnapshot) Quantile(q float64) time.Duration {
	if s.total == 0 {
		return 0
	}
	rank := uint64(q*float64(s.total) + 0.5)
	rank = min(max(rank, 1), s.total)
	var seen uint64
	for i, c := range s.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketHigh(i), s.max)) * time.Microsecond
		}
	}
	return time.Duration(s.max) * time.Microsecond
}
