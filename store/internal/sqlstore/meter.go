package sqlstore

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/store/internal/sqldb"
)

// Defaults of the OCPP sampled value, filled in before storing so that the
// duplicate rule compares like with like.
const (
	defaultMeasurand = "Energy.Active.Import.Register"
	defaultContext   = "Sample.Periodic"
	defaultLocation  = "Outlet"
)

func validateMeterValue(v *csms.MeterValue) error {
	switch {
	case v.Timestamp.IsZero() || !validTime(v.Timestamp):
		return invalid("meter value timestamp %v missing or out of range", v.Timestamp)
	case math.IsNaN(v.Value) || math.IsInf(v.Value, 0):
		return invalid("meter value %v", v.Value)
	case v.EVSE < 0:
		return invalid("meter value EVSE %d", v.EVSE)
	}
	return nil
}

func withDefaults(v csms.MeterValue) csms.MeterValue {
	if v.Measurand == "" {
		v.Measurand = defaultMeasurand
	}
	if v.Context == "" {
		v.Context = defaultContext
	}
	if v.Location == "" {
		v.Location = defaultLocation
	}
	return v
}

// meterValueStatements are the INSERTs that store the values of a
// transaction event, dropping duplicates. Values without an EVSE take the
// event's (not the transaction's, which may still change with events yet to
// arrive). When the values are at several times, the times go to
// transaction_meter_times too (see eventMeterTime).
func meterValueStatements(row *txRow, e *csms.TxEvent) []Statement {
	stmts := insertEventMeterValues(row, e)
	if _, shared := eventMeterTime(e.MeterValues); !shared && len(e.MeterValues) > 0 {
		stmts = append(stmts, meterTimeStatements(row.id, e.MeterValues)...)
	}
	return stmts
}

// replayMeterValueStatements store the values of an event whose seqNo is
// recorded already: those not stored yet go in, their times recorded apart,
// since the stored event's meter_ts may not name them.
func replayMeterValueStatements(row *txRow, e *csms.TxEvent) []Statement {
	if len(e.MeterValues) == 0 {
		return nil
	}
	return append(insertEventMeterValues(row, e), meterTimeStatements(row.id, e.MeterValues)...)
}

// insertEventMeterValues are the INSERTs of an event's values, completed
// with the transaction's station and id and the event's EVSE.
func insertEventMeterValues(row *txRow, e *csms.TxEvent) []Statement {
	id := row.id
	return insertMeterValues(e.MeterValues, func(v *csms.MeterValue) {
		v.StationID = row.stationID
		v.TransactionID = &id
		if v.EVSE == 0 {
			v.EVSE = e.EVSE
		}
	})
}

// eventMeterTime is the time that all of an event's values share, which
// the event's row keeps (transaction_events.meter_ts): how the
// transaction's values at that time are found, with no write to a structure
// ordered by transaction (see migration 0004). shared is false when the
// event has no values, or values at several times.
func eventMeterTime(mvs []csms.MeterValue) (ts int64, shared bool) {
	if len(mvs) == 0 {
		return 0, false
	}
	ts = ns(mvs[0].Timestamp)
	for i := range mvs[1:] {
		if ns(mvs[i+1].Timestamp) != ts {
			return 0, false
		}
	}
	return ts, true
}

// meterTimeStatements record in transaction_meter_times the times of
// values that no event row points at.
func meterTimeStatements(txID int64, mvs []csms.MeterValue) []Statement {
	times := make([]int64, 0, len(mvs))
	for i := range mvs {
		times = append(times, ns(mvs[i].Timestamp))
	}
	slices.Sort(times)
	times = slices.Compact(times)
	var stmts []Statement
	for chunk := range slices.Chunk(times, maxRowsPerInsert) {
		args := make([]any, 0, 2*len(chunk))
		for _, ts := range chunk {
			args = append(args, txID, ts)
		}
		q := `INSERT INTO transaction_meter_times (transaction_id, ts) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?), ", len(chunk)), ", ") + ` ON CONFLICT DO NOTHING`
		stmts = append(stmts, Statement{q, args})
	}
	return stmts
}

const (
	meterValueColumns = 12
	// maxRowsPerInsert keeps a statement's parameters under SQLite's
	// default limit (32766) and PostgreSQL's (65535).
	maxRowsPerInsert = 1000
)

// insertSQL caches the multi-row INSERT for each row count: one statement
// per event instead of one per value.
var insertSQL sync.Map // int -> string

func insertMeterValuesSQL(rows int) string {
	if q, ok := insertSQL.Load(rows); ok {
		return q.(string)
	}
	row := "(" + placeholders(meterValueColumns) + ")"
	q := `INSERT INTO meter_values (station_id, transaction_id, evse, ts, measurand,
			phase, context, location, value, unit, raw_value, raw_unit)
		VALUES ` + strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ") + ` ON CONFLICT DO NOTHING`
	insertSQL.Store(rows, q)
	return q
}

// insertMeterValues are the multi-row INSERTs of mvs, each value first
// completed by fill (on a copy); duplicates are dropped.
func insertMeterValues(mvs []csms.MeterValue, fill func(*csms.MeterValue)) []Statement {
	var stmts []Statement
	for chunk := range slices.Chunk(mvs, maxRowsPerInsert) {
		args := make([]any, 0, len(chunk)*meterValueColumns)
		for _, v := range chunk {
			fill(&v)
			args = appendMeterValue(args, v)
		}
		stmts = append(stmts, Statement{insertMeterValuesSQL(len(chunk)), args})
	}
	return stmts
}

func appendMeterValue(args []any, v csms.MeterValue) []any {
	v = withDefaults(v)
	return append(args, v.StationID, v.TransactionID, v.EVSE, ns(v.Timestamp), v.Measurand, v.Phase,
		v.Context, v.Location, v.Value, v.Unit, v.RawValue, v.RawUnit)
}

// RecordMeterValues stores meter values sent outside a transaction event,
// dropping duplicates. A value naming a transaction must name an existing
// one of the same station (else csms.ErrNotFound, and nothing is stored).
func (s *Store) RecordMeterValues(ctx context.Context, mvs []csms.MeterValue) error {
	for i := range mvs {
		if mvs[i].StationID == "" {
			return s.errorf(invalid("meter value %d: empty station id", i), "record meter values")
		}
		if err := validateMeterValue(&mvs[i]); err != nil {
			return s.errorf(err, "record meter values of %q", mvs[i].StationID)
		}
	}
	if len(mvs) == 0 {
		return nil
	}
	err := s.write(ctx, func(ctx context.Context, q sqldb.Querier) error {
		byTx := map[int64][]csms.MeterValue{} // the values of each transaction, for their times
		var txs []int64
		for _, v := range mvs {
			if v.TransactionID == nil {
				continue
			}
			id := *v.TransactionID
			if _, checked := byTx[id]; !checked {
				var one int
				if err := q.QueryRow(ctx, `SELECT 1 FROM transactions WHERE id = ? AND station_id = ?`,
					id, v.StationID).Scan(&one); err != nil {
					return notFound(err)
				}
				txs = append(txs, id)
			}
			byTx[id] = append(byTx[id], v)
		}
		stmts := insertMeterValues(mvs, func(*csms.MeterValue) {})
		for _, id := range txs {
			stmts = append(stmts, meterTimeStatements(id, byTx[id])...)
		}
		return execAll(ctx, q, stmts)
	})
	if err != nil {
		return s.errorf(err, "record meter values of %q", mvs[0].StationID)
	}
	return nil
}

// MeterValues returns a transaction's meter values in time order, or
// csms.ErrNotFound for an unknown transaction. They are found through the
// transaction's times (migration 0004): one query, so one snapshot.
func (s *Store) MeterValues(ctx context.Context, transactionID int64) ([]csms.MeterValue, error) {
	out, err := collect(ctx, s.cfg.Reader, func(r sqldb.Rows) (csms.MeterValue, error) {
		var v csms.MeterValue
		var ts int64
		err := r.Scan(&v.StationID, &v.TransactionID, &v.EVSE, &ts, &v.Measurand, &v.Phase, &v.Context,
			&v.Location, &v.Value, &v.Unit, &v.RawValue, &v.RawUnit)
		v.Timestamp = fromNS(ts)
		return v, err
	}, `SELECT station_id, transaction_id, evse, ts, measurand, phase, context, location,
			value, unit, raw_value, raw_unit
		FROM meter_values
		WHERE transaction_id = ? AND ts IN (
			SELECT meter_ts FROM transaction_events WHERE transaction_id = ? AND meter_ts IS NOT NULL
			UNION SELECT ts FROM transaction_meter_times WHERE transaction_id = ?)
		ORDER BY ts, id`, transactionID, transactionID, transactionID)
	if err == nil && len(out) == 0 {
		err = s.txExists(ctx, transactionID)
	}
	if err != nil {
		return nil, s.errorf(err, "meter values of transaction %d", transactionID)
	}
	return out, nil
}
