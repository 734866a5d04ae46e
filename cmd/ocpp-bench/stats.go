package main

import (
	"slices"
	"sync"
	"time"
)

// latency summarises round-trip times measured by the load generator.
type latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// summarize sorts samples in place and returns their percentiles.
func summarize(samples []time.Duration) latency {
	slices.Sort(samples)
	return latency{
		N:   len(samples),
		P50: ms(percentile(samples, 50)),
		P90: ms(percentile(samples, 90)),
		P99: ms(percentile(samples, 99)),
		Max: ms(percentile(samples, 100)),
	}
}

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of sorted
// samples: the smallest sample that at least p% of the samples do not exceed.
// It returns 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// rank = ceil(p/100 · n), computed in integers to avoid 0.99·100 ≠ 99.
	rank := (int(p*1000)*len(sorted) + 100*1000 - 1) / (100 * 1000)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// median returns the median of xs (the mean of the middle two for an even
// count), leaving xs unchanged. It returns 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// recorder collects latency samples from many goroutines. Keeping every
// sample (a few hundred thousand per phase at most) gives exact percentiles.
type recorder struct {
	mu      sync.Mutex
	samples []time.Duration
}

func (r *recorder) add(d time.Duration) {
	r.mu.Lock()
	r.samples = append(r.samples, d)
	r.mu.Unlock()
}

// summary returns the percentiles of the samples recorded so far.
func (r *recorder) summary() latency {
	r.mu.Lock()
	s := slices.Clone(r.samples)
	r.mu.Unlock()
	return summarize(s)
}
