package main

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{
		{50, 50 * time.Millisecond},
		{90, 90 * time.Millisecond},
		{99, 99 * time.Millisecond},
		{99.9, 100 * time.Millisecond},
		{100, 100 * time.Millisecond},
		{0.1, 1 * time.Millisecond},
	} {
		if got := percentile(s, c.p); got != c.want {
			t.Errorf("percentile(1..100 ms, %v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile(nil, 99); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}
	one := []time.Duration{7}
	if percentile(one, 1) != 7 || percentile(one, 100) != 7 {
		t.Error("percentile of one sample must be that sample")
	}
	// Nearest rank of 4 samples: p50 is the 2nd, p51 the 3rd.
	four := []time.Duration{1, 2, 3, 4}
	if percentile(four, 50) != 2 || percentile(four, 51) != 3 {
		t.Errorf("p50, p51 of 1..4 = %v, %v; want 2, 3", percentile(four, 50), percentile(four, 51))
	}
}

func TestSummarizeSortsAndConverts(t *testing.T) {
	var s []time.Duration
	for _, i := range rand.Perm(1000) {
		s = append(s, time.Duration(i+1)*time.Microsecond)
	}
	l := summarize(s)
	if l.N != 1000 || l.P50 != 0.5 || l.P90 != 0.9 || l.P99 != 0.99 || l.Max != 1 {
		t.Errorf("summarize(1..1000 µs) = %+v", l)
	}
}

func TestMedian(t *testing.T) {
	xs := []float64{3, 1, 2}
	if m := median(xs); m != 2 {
		t.Errorf("median(3,1,2) = %v", m)
	}
	if xs[0] != 3 {
		t.Error("median reordered its argument")
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median(4,1,3,2) = %v", m)
	}
	if m := median(nil); m != 0 {
		t.Errorf("median(nil) = %v", m)
	}
}
