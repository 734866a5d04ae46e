package csms

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Store lookups for something that does not exist.
var ErrNotFound = errors.New("not found")

// Store keeps the CSMS's state. store/sqlite and store/postgres implement it,
// and store/storetest is the conformance suite both pass.
//
// Every write returns only after it is durably committed: the CSMS answers a
// station only after the store has returned, so that nothing acknowledged is
// lost to a crash. Implementations batch concurrent writes into one
// database transaction (group commit) to keep that promise cheap.
type Store interface {
	// SaveStation creates or replaces the station with s.ID.
	SaveStation(ctx context.Context, s Station) error
	// Station returns one station, or ErrNotFound.
	Station(ctx context.Context, id string) (Station, error)
	// Stations lists stations ordered by ID.
	Stations(ctx context.Context, f StationFilter) ([]Station, error)
	// CountStations counts the stations f selects, whatever its Page.
	CountStations(ctx context.Context, f StationFilter) (int, error)
	// DeleteStation removes a station (its history stays), or ErrNotFound.
	DeleteStation(ctx context.Context, id string) error
	// StationSeen records that a station is online or offline as of at; an
	// unknown station is ErrNotFound.
	StationSeen(ctx context.Context, id string, online bool, at time.Time) error

	// RecordStatus appends a status notification to the history and makes
	// it the current status of its connector, unless the current one is newer
	// (a late, replayed notification does not overwrite a newer status).
	RecordStatus(ctx context.Context, st ConnectorStatus) error
	// ConnectorStatuses returns the current status of each connector of a
	// station, ordered by EVSE and connector.
	ConnectorStatuses(ctx context.Context, stationID string) ([]ConnectorStatus, error)
	// StatusHistory returns a station's notifications, newest first.
	StatusHistory(ctx context.Context, stationID string, p Page) ([]ConnectorStatus, error)

	// SaveToken creates or replaces the token with t.ID (case-insensitive).
	SaveToken(ctx context.Context, t IDToken) error
	// Token returns a token by value, ignoring case, or ErrNotFound.
	Token(ctx context.Context, id string) (IDToken, error)
	// Tokens lists tokens ordered by ID.
	Tokens(ctx context.Context, p Page) ([]IDToken, error)
	// CountTokens counts every token.
	CountTokens(ctx context.Context) (int, error)
	// DeleteToken removes a token, or ErrNotFound.
	DeleteToken(ctx context.Context, id string) error

	// RecordTransactionEvent stores one transaction event durably and
	// returns the transaction as it stands afterwards. See TxEvent for the
	// rules that make it idempotent and independent of arrival order.
	RecordTransactionEvent(ctx context.Context, e TxEvent) (tx Transaction, applied bool, err error)
	// Transaction returns a transaction by ID, or ErrNotFound.
	Transaction(ctx context.Context, id int64) (Transaction, error)
	// TransactionByStationTxID finds a transaction by the id used on the wire.
	TransactionByStationTxID(ctx context.Context, stationID, stationTxID string) (Transaction, error)
	// Transactions lists transactions, newest start first.
	Transactions(ctx context.Context, f TransactionFilter) ([]Transaction, error)
	// CountTransactions counts the transactions f selects, whatever its Page.
	CountTransactions(ctx context.Context, f TransactionFilter) (int, error)
	// TransactionEvents returns a transaction's events in seqNo order.
	TransactionEvents(ctx context.Context, id int64) ([]TransactionEvent, error)
	// MeterValues returns a transaction's meter values in time order.
	MeterValues(ctx context.Context, transactionID int64) ([]MeterValue, error)

	// RecordMeterValues stores meter values sent outside a transaction
	// event (1.6 MeterValues); duplicates are dropped (see TxEvent).
	RecordMeterValues(ctx context.Context, mv []MeterValue) error
	// RecordStationEvent logs a notice from a station; it returns its ID.
	RecordStationEvent(ctx context.Context, e StationEvent) (int64, error)
	// StationEvents lists a station's notices, newest first; kind "" means all.
	StationEvents(ctx context.Context, stationID, kind string, p Page) ([]StationEvent, error)

	// Close waits for pending writes and releases the database.
	Close() error
}

// TxEvent is one transaction event to record. The rules:
//
//   - The transaction is found by (StationID, StationTxID) or, when
//     StationTxID is empty, by TransactionID. A 1.6 start has neither: the
//     store issues a new ID (and StationTxID is its decimal form), unless it
//     is a replay (below).
//   - The first event of a transaction creates it, whatever its type: an
//     Ended that overtakes its Started creates a finished transaction, and
//     the Started completes it later.
//   - An event already recorded changes the transaction in nothing and
//     returns applied=false with the stored transaction, so a replay gets
//     the same answer as the original (a replayed 1.6 start gets the same
//     transactionId). The same event is: same transaction and SeqNo; for a
//     1.6 start, same station, connector, IDToken, Timestamp and MeterWh.
//     Its MeterValues are stored all the same, under the duplicate rule
//     below: a true replay adds none, and two different messages that share
//     a SeqNo (1.6 MeterValues, numbered by their time) lose none.
//   - The transaction's fields follow from all its events ordered by SeqNo
//     (then Timestamp), not from arrival order: StartedAt is the Started
//     event's time (else that of the event with the lowest SeqNo);
//     MeterStartWh the Started event's MeterWh (else the reading with the
//     lowest SeqNo); the Ended event with the lowest SeqNo sets Status
//     Finished, StoppedAt, MeterStopWh and StopReason, so a second Ended
//     sent later (a higher SeqNo) changes nothing; EVSE, Connector and
//     IDToken come from the lowest-SeqNo event that has them; EnergyWh is MeterStopWh − MeterStartWh,
//     or the latest reading − MeterStartWh while active; LastSeqNo the
//     highest SeqNo.
//   - MeterValues are stored with the transaction; a value with the same
//     timestamp, measurand, phase, context and location as a stored one is
//     a duplicate and dropped.
type TxEvent struct {
	StationID     string
	StationTxID   string
	TransactionID int64
	Event         TransactionEvent
	EVSE          int
	Connector     int
	IDToken       string
	// MeterWh is the energy register reading the event carries (1.6
	// meterStart/meterStop, or the Energy.Active.Import.Register value of a
	// 2.0.1 event), nil if none.
	MeterWh     *float64
	StopReason  string
	MeterValues []MeterValue
}

// Page bounds a list: at most Limit items (0 means DefaultPageLimit;
// larger values than MaxPageLimit are clamped to it) after skipping Offset.
type Page struct {
	Limit  int
	Offset int
}

// The bounds of a Page.
const (
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
)

// Bounds returns the limit and offset that p asks for, as every store
// applies them: a limit of 0 or less is DefaultPageLimit, one above
// MaxPageLimit is MaxPageLimit, and a negative offset is 0.
func (p Page) Bounds() (limit, offset int) {
	limit, offset = p.Limit, max(p.Offset, 0)
	if limit <= 0 {
		limit = DefaultPageLimit
	}
	return min(limit, MaxPageLimit), offset
}

// StationFilter selects stations.
type StationFilter struct {
	Page
	// Online, when set, keeps only stations online (true) or offline (false).
	Online *bool
}

// TransactionFilter selects transactions; zero fields select everything.
type TransactionFilter struct {
	Page
	StationID string
	IDToken   string
	Status    TransactionStatus
	// From and To bound StartedAt: From inclusive, To exclusive.
	From, To time.Time
}
