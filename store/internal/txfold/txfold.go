// Package txfold derives a transaction's fields from its events, following
// the csms.TxEvent rules, one event at a time and independently of the order
// in which the events arrive.
//
// Every rule picks one event per field ("the Started event, else the
// earliest", "the first Ended", "the earliest that has an EVSE", "the latest
// reading"), and events are ordered by SeqNo, which is unique within a
// transaction (a second event with the same SeqNo is a replay and never
// reaches the fold). So the fold keeps, beside each field, the SeqNo of the
// event it came from, and a new event replaces a field only if it ranks
// before that event. The result is the same for every arrival order, and
// applying an event costs O(1) instead of re-reading the whole history.
package txfold

import "time"

// Event types, as csms.TransactionEvent spells them.
const (
	Started = "Started"
	Updated = "Updated"
	Ended   = "Ended"
)

// None is the source SeqNo of a field no event has set yet.
const None = -1

// Event is what the fold needs of one transaction event.
type Event struct {
	Type       string
	SeqNo      int // >= 0
	Timestamp  time.Time
	EVSE       int // 0: not given
	Connector  int // 0: not given
	IDToken    string
	MeterWh    *float64
	StopReason string
}

// State is a transaction's derived fields, each with the SeqNo of the event
// it came from (None if none did).
type State struct {
	StartedAt      time.Time
	StartedSeq     int
	StartedByStart bool // StartedAt came from a Started event

	MeterStartWh      float64
	MeterStartSeq     int
	MeterStartByStart bool // MeterStartWh came from a Started event

	EndSeq      int // the first Ended; None while active
	StoppedAt   time.Time
	MeterStopWh *float64
	StopReason  string

	EVSE         int
	EVSESeq      int
	Connector    int
	ConnectorSeq int
	IDToken      string
	IDTokenSeq   int

	ReadingWh  float64 // the latest reading
	ReadingSeq int

	LastSeq int // the highest SeqNo applied
}

// New returns the state of a transaction without events.
func New() State {
	return State{
		StartedSeq: None, MeterStartSeq: None, EndSeq: None, EVSESeq: None,
		ConnectorSeq: None, IDTokenSeq: None, ReadingSeq: None, LastSeq: None,
	}
}

// Apply folds one event into s. e.SeqNo must not have been applied before.
func (s *State) Apply(e Event) {
	start := e.Type == Started
	if ranksFirst(start, e.SeqNo, s.StartedByStart, s.StartedSeq) {
		s.StartedAt, s.StartedSeq, s.StartedByStart = e.Timestamp, e.SeqNo, start
	}
	if e.MeterWh != nil {
		if ranksFirst(start, e.SeqNo, s.MeterStartByStart, s.MeterStartSeq) {
			s.MeterStartWh, s.MeterStartSeq, s.MeterStartByStart = *e.MeterWh, e.SeqNo, start
		}
		if s.ReadingSeq == None || e.SeqNo > s.ReadingSeq {
			s.ReadingWh, s.ReadingSeq = *e.MeterWh, e.SeqNo
		}
	}
	if e.Type == Ended && (s.EndSeq == None || e.SeqNo < s.EndSeq) {
		s.EndSeq, s.StoppedAt, s.StopReason = e.SeqNo, e.Timestamp, e.StopReason
		s.MeterStopWh = nil
		if e.MeterWh != nil {
			v := *e.MeterWh
			s.MeterStopWh = &v
		}
	}
	if e.EVSE != 0 && earlier(e.SeqNo, s.EVSESeq) {
		s.EVSE, s.EVSESeq = e.EVSE, e.SeqNo
	}
	if e.Connector != 0 && earlier(e.SeqNo, s.ConnectorSeq) {
		s.Connector, s.ConnectorSeq = e.Connector, e.SeqNo
	}
	if e.IDToken != "" && earlier(e.SeqNo, s.IDTokenSeq) {
		s.IDToken, s.IDTokenSeq = e.IDToken, e.SeqNo
	}
	if e.SeqNo > s.LastSeq {
		s.LastSeq = e.SeqNo
	}
}

// Finished tells whether an Ended event has been applied.
func (s *State) Finished() bool { return s.EndSeq != None }

// EnergyWh is MeterStopWh − MeterStartWh once finished with a stop reading,
// else the latest reading − MeterStartWh (0 without readings).
func (s *State) EnergyWh() float64 {
	if s.Finished() && s.MeterStopWh != nil {
		return *s.MeterStopWh - s.MeterStartWh
	}
	if s.ReadingSeq == None {
		return 0
	}
	return s.ReadingWh - s.MeterStartWh
}

// earlier tells whether seq comes before the field's source cur.
func earlier(seq, cur int) bool { return cur == None || seq < cur }

// ranksFirst is the "the Started event's, else the earliest event's" rule:
// a Started event beats any other, and among equals the lower SeqNo wins.
func ranksFirst(start bool, seq int, curStart bool, cur int) bool {
	if cur == None || start != curStart {
		return cur == None || start
	}
	return seq < cur
}
