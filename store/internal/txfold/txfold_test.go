package txfold

import (
	"reflect"
	"testing"
	"time"
)

func f(v float64) *float64 { return &v }

// permutations calls fn with every ordering of n indexes.
func permutations(n int, fn func([]int)) {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			fn(append([]int(nil), p...))
			return
		}
		for i := k; i < n; i++ {
			p[k], p[i] = p[i], p[k]
			rec(k + 1)
			p[k], p[i] = p[i], p[k]
		}
	}
	rec(0)
}

func TestEveryArrivalOrderGivesTheSameState(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	events := []Event{
		{Type: Started, SeqNo: 0, Timestamp: t0, EVSE: 1, Connector: 1, IDToken: "TAG", MeterWh: f(1000)},
		{Type: Updated, SeqNo: 1, Timestamp: t0.Add(time.Minute), MeterWh: f(1500)},
		{Type: Updated, SeqNo: 2, Timestamp: t0.Add(2 * time.Minute), EVSE: 2, MeterWh: f(2000)},
		{Type: Ended, SeqNo: 3, Timestamp: t0.Add(3 * time.Minute), MeterWh: f(2600), StopReason: "Local"},
	}
	var want *State
	permutations(len(events), func(order []int) {
		s := New()
		for _, i := range order {
			s.Apply(events[i])
		}
		if want == nil {
			want = &s
			return
		}
		if !reflect.DeepEqual(s, *want) {
			t.Fatalf("order %v: got %+v, want %+v", order, s, *want)
		}
	})
	if !want.StartedAt.Equal(t0) || want.MeterStartWh != 1000 || !want.Finished() ||
		*want.MeterStopWh != 2600 || want.EnergyWh() != 1600 || want.EVSE != 1 ||
		want.Connector != 1 || want.IDToken != "TAG" || want.LastSeq != 3 || want.StopReason != "Local" {
		t.Fatalf("final state %+v", *want)
	}
}

func TestWithoutStartedTheEarliestEventCounts(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := New()
	s.Apply(Event{Type: Updated, SeqNo: 5, Timestamp: t0.Add(time.Hour), MeterWh: f(700)})
	s.Apply(Event{Type: Updated, SeqNo: 2, Timestamp: t0, MeterWh: f(500)})
	if !s.StartedAt.Equal(t0) || s.MeterStartWh != 500 || s.EnergyWh() != 200 || s.Finished() {
		t.Fatalf("state %+v", s)
	}
	// A Started without a reading takes StartedAt but not MeterStartWh.
	s.Apply(Event{Type: Started, SeqNo: 7, Timestamp: t0.Add(2 * time.Hour)})
	if !s.StartedAt.Equal(t0.Add(2*time.Hour)) || s.MeterStartWh != 500 {
		t.Fatalf("after Started: %+v", s)
	}
}

func TestFirstEndedWins(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := New()
	s.Apply(Event{Type: Ended, SeqNo: 9, Timestamp: t0.Add(time.Hour), MeterWh: f(90), StopReason: "Late"})
	s.Apply(Event{Type: Ended, SeqNo: 4, Timestamp: t0, MeterWh: f(40), StopReason: "First"})
	s.Apply(Event{Type: Ended, SeqNo: 6, Timestamp: t0, MeterWh: f(60), StopReason: "Middle"})
	if s.EndSeq != 4 || s.StopReason != "First" || *s.MeterStopWh != 40 || !s.StoppedAt.Equal(t0) {
		t.Fatalf("state %+v", s)
	}
}
