package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/store/internal/groupcommit"
	"github.com/openev/openev/store/internal/sqldb"
	"github.com/openev/openev/store/internal/txfold"
)

// txRow is one row of the transactions table: identity plus fold state.
type txRow struct {
	id          int64
	stationID   string
	stationTxID string
	issued      bool // OCPP 1.6: the CSMS issued the id
	updatedAt   time.Time
	fold        txfold.State
}

const txColumns = `id, station_id, station_tx_id, issued_id, evse, connector, id_token,
	started_at, stopped_at, meter_start_wh, meter_stop_wh, stop_reason, last_seq, updated_at,
	started_seq, started_by_start, meter_start_seq, meter_start_by_start, end_seq,
	evse_seq, connector_seq, id_token_seq, reading_seq, reading_wh`

func scanTx(r sqldb.Row) (txRow, error) {
	var t txRow
	var stationTxID *string
	var started, updated int64
	var stopped *int64
	f := &t.fold
	err := r.Scan(&t.id, &t.stationID, &stationTxID, &t.issued, &f.EVSE, &f.Connector, &f.IDToken,
		&started, &stopped, &f.MeterStartWh, &f.MeterStopWh, &f.StopReason, &f.LastSeq, &updated,
		&f.StartedSeq, &f.StartedByStart, &f.MeterStartSeq, &f.MeterStartByStart, &f.EndSeq,
		&f.EVSESeq, &f.ConnectorSeq, &f.IDTokenSeq, &f.ReadingSeq, &f.ReadingWh)
	if stationTxID != nil {
		t.stationTxID = *stationTxID
	}
	f.StartedAt, f.StoppedAt = fromNS(started), fromNullNS(stopped)
	t.updatedAt = fromNS(updated)
	return t, err
}

// transaction is the csms view of a row.
func (t *txRow) transaction() csms.Transaction {
	f := &t.fold
	tx := csms.Transaction{
		ID:           t.id,
		StationID:    t.stationID,
		StationTxID:  t.stationTxID,
		EVSE:         f.EVSE,
		Connector:    f.Connector,
		IDToken:      f.IDToken,
		Status:       csms.TransactionActive,
		StartedAt:    f.StartedAt,
		MeterStartWh: f.MeterStartWh,
		EnergyWh:     f.EnergyWh(),
		StopReason:   f.StopReason,
		LastSeqNo:    f.LastSeq,
		UpdatedAt:    t.updatedAt,
	}
	if f.Finished() {
		tx.Status = csms.TransactionFinished
		stopped := f.StoppedAt
		tx.StoppedAt = &stopped
		if f.MeterStopWh != nil {
			v := *f.MeterStopWh
			tx.MeterStopWh = &v
		}
	}
	if t.issued {
		tx.LastSeqNo = -1 // the contract: no seqNo in OCPP 1.6
	}
	return tx
}

// The derived columns are split in two: the indexed ones, and the rest. An
// event that leaves the indexed ones unchanged (the common Updated) updates
// only the rest, which spares SQLite the index maintenance: the indexes'
// pages stay clean, and every dirty page is one more WAL frame to write at
// commit.
const (
	indexedColumns = `id_token_key, status, started_at`
	plainColumns   = `evse, connector, id_token, stopped_at,
	meter_start_wh, meter_stop_wh, energy_wh, stop_reason, last_seq, updated_at,
	started_seq, started_by_start, meter_start_seq, meter_start_by_start, end_seq,
	evse_seq, connector_seq, id_token_seq, reading_seq, reading_wh`
)

var (
	insertTxSQL = `INSERT INTO transactions (station_id, station_tx_id, issued_id, ` + indexedColumns + `, ` + plainColumns + `)
		VALUES (` + placeholders(3+columns(indexedColumns)+columns(plainColumns)) + `) RETURNING id`
	updateTxSQL = `UPDATE transactions SET (` + indexedColumns + `, ` + plainColumns + `) =
		(` + placeholders(columns(indexedColumns)+columns(plainColumns)) + `) WHERE id = ?`
	updatePlainTxSQL = `UPDATE transactions SET (` + plainColumns + `) =
		(` + placeholders(columns(plainColumns)) + `) WHERE id = ?`
)

func columns(list string) int { return strings.Count(list, ",") + 1 }

// placeholders returns "?, ?, ..." with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// indexedArgs are the values of indexedColumns.
func (t *txRow) indexedArgs() []any {
	f := &t.fold
	status := csms.TransactionActive
	if f.Finished() {
		status = csms.TransactionFinished
	}
	return []any{tokenKey(f.IDToken), string(status), ns(f.StartedAt)}
}

// plainArgs are the values of plainColumns.
func (t *txRow) plainArgs() []any {
	f := &t.fold
	var stopped *int64
	if f.Finished() {
		stopped = nullNS(f.StoppedAt)
	}
	return []any{f.EVSE, f.Connector, f.IDToken, stopped,
		f.MeterStartWh, f.MeterStopWh, f.EnergyWh(), f.StopReason, f.LastSeq, ns(t.updatedAt),
		f.StartedSeq, f.StartedByStart, f.MeterStartSeq, f.MeterStartByStart, f.EndSeq,
		f.EVSESeq, f.ConnectorSeq, f.IDTokenSeq, f.ReadingSeq, f.ReadingWh}
}

// validateTxEvent rejects what the rules cannot place.
func validateTxEvent(e *csms.TxEvent) error {
	ev := &e.Event
	switch {
	case e.StationID == "":
		return invalid("empty station id")
	case ev.EventType != txfold.Started && ev.EventType != txfold.Updated && ev.EventType != txfold.Ended:
		return invalid("event type %q is not Started, Updated or Ended", ev.EventType)
	case e.StationTxID == "" && e.TransactionID == 0 && ev.EventType != txfold.Started:
		return invalid("%s event without StationTxID or TransactionID", ev.EventType)
	case e.TransactionID < 0:
		return invalid("negative transaction id %d", e.TransactionID)
	case ev.SeqNo < 0:
		return invalid("negative seqNo %d", ev.SeqNo)
	case ev.Timestamp.IsZero() || !validTime(ev.Timestamp):
		return invalid("timestamp %v missing or out of range", ev.Timestamp)
	case e.EVSE < 0 || e.Connector < 0:
		return invalid("negative EVSE %d or connector %d", e.EVSE, e.Connector)
	case e.MeterWh != nil && (math.IsNaN(*e.MeterWh) || math.IsInf(*e.MeterWh, 0)):
		return invalid("meter reading %v", *e.MeterWh)
	case len(ev.Raw) > 0 && !json.Valid(ev.Raw):
		return invalid("raw message is not JSON")
	}
	for i := range e.MeterValues {
		if err := validateMeterValue(&e.MeterValues[i]); err != nil {
			return err
		}
	}
	return nil
}

// RecordTransactionEvent stores one transaction event and returns the
// transaction as it stands afterwards; see csms.TxEvent for the rules.
func (s *Store) RecordTransactionEvent(ctx context.Context, e csms.TxEvent) (csms.Transaction, bool, error) {
	if err := validateTxEvent(&e); err != nil {
		return csms.Transaction{}, false, s.errorf(err, "record transaction event %s", describe(&e))
	}
	var tx csms.Transaction
	var applied bool
	err := s.write(ctx, func(ctx context.Context, q sqldb.Querier) (err error) {
		tx, applied, err = s.recordTxEvent(ctx, q, &e)
		return err
	})
	if err != nil {
		return csms.Transaction{}, false, s.errorf(err, "record transaction event %s", describe(&e))
	}
	return tx, applied, nil
}

// describe names an event in errors.
func describe(e *csms.TxEvent) string {
	var b strings.Builder
	b.WriteString(e.Event.EventType)
	b.WriteString(" of station ")
	b.WriteString(strconv.Quote(e.StationID))
	switch {
	case e.StationTxID != "":
		b.WriteString(" transaction ")
		b.WriteString(strconv.Quote(e.StationTxID))
	case e.TransactionID != 0:
		b.WriteString(" transaction ")
		b.WriteString(strconv.FormatInt(e.TransactionID, 10))
	}
	b.WriteString(" seqNo ")
	b.WriteString(strconv.Itoa(e.Event.SeqNo))
	return b.String()
}

func (s *Store) recordTxEvent(ctx context.Context, q sqldb.Querier, e *csms.TxEvent) (csms.Transaction, bool, error) {
	now := fromNS(ns(s.cfg.Now())) // as it reads back: UTC, no monotonic clock
	var row txRow
	var err error
	switch {
	case e.StationTxID != "":
		var ok bool
		if row, ok = s.txs.byKey(txKey{e.StationID, e.StationTxID}); ok {
			break
		}
		row, err = scanTx(q.QueryRow(ctx, `SELECT `+txColumns+` FROM transactions
			WHERE station_id = ? AND station_tx_id = ?`+s.cfg.LockSuffix, e.StationID, e.StationTxID))
		if errors.Is(err, sqldb.ErrNoRows) {
			return s.createTx(ctx, q, e, now)
		}
	case e.TransactionID != 0:
		var ok bool
		if row, ok = s.txs.byID(e.TransactionID); !ok {
			row, err = scanTx(q.QueryRow(ctx, `SELECT `+txColumns+` FROM transactions
				WHERE id = ?`+s.cfg.LockSuffix, e.TransactionID))
		}
		if err == nil && row.stationID != e.StationID {
			// A station may only report its own transactions.
			err = sqldb.ErrNoRows
		}
	default:
		// An OCPP 1.6 start: a replay is the same start on the same
		// station and connector with the same token, time and meter.
		meterSeq, meter := txfold.None, 0.0
		if e.MeterWh != nil {
			meterSeq, meter = e.Event.SeqNo, *e.MeterWh
		}
		row, err = scanTx(q.QueryRow(ctx, `SELECT `+txColumns+` FROM transactions
			WHERE station_id = ? AND issued_id = ? AND started_by_start = ? AND started_seq = ?
				AND started_at = ? AND connector = ? AND id_token = ?
				AND meter_start_seq = ? AND meter_start_wh = ?
			ORDER BY id LIMIT 1`,
			e.StationID, true, true, e.Event.SeqNo, ns(e.Event.Timestamp), e.Connector, e.IDToken, meterSeq, meter))
		if errors.Is(err, sqldb.ErrNoRows) {
			return s.createTx(ctx, q, e, now)
		}
		if err == nil {
			return row.transaction(), false, nil
		}
	}
	if err != nil {
		return csms.Transaction{}, false, notFound(err)
	}
	inserted, err := s.insertTxEvent(ctx, q, row.id, e, now)
	if err != nil {
		return csms.Transaction{}, false, err
	}
	if !inserted {
		// The same seqNo is recorded: a replay, which changes the
		// transaction in nothing. Its meter values still go in (the
		// duplicate rule drops those of a true replay): two OCPP 1.6
		// MeterValues sent at the same time get the same seqNo from it, and
		// the second is not a repeat of the first.
		if err := execAll(ctx, q, replayMeterValueStatements(&row, e)); err != nil {
			return csms.Transaction{}, false, err
		}
		s.txs.stage(&row)
		return row.transaction(), false, nil
	}
	before := row.indexedArgs()
	row.fold.Apply(foldEvent(e))
	row.updatedAt = now
	query, args := updatePlainTxSQL, row.plainArgs()
	if after := row.indexedArgs(); !slices.Equal(before, after) {
		query, args = updateTxSQL, append(after, args...)
	}
	stmts := append([]Statement{{query, append(args, row.id)}}, meterValueStatements(&row, e)...)
	if err := execAll(ctx, q, stmts); err != nil {
		return csms.Transaction{}, false, err
	}
	s.txs.stage(&row) // last: a write that fails stages nothing
	return row.transaction(), true, nil
}

// createTx creates the transaction that e is the first event of.
func (s *Store) createTx(ctx context.Context, q sqldb.Querier, e *csms.TxEvent, now time.Time) (csms.Transaction, bool, error) {
	row := txRow{stationID: e.StationID, stationTxID: e.StationTxID, updatedAt: now, fold: txfold.New()}
	row.fold.Apply(foldEvent(e))
	var stationTxID *string
	if e.StationTxID != "" {
		stationTxID = &e.StationTxID
	} else {
		// OCPP 1.6: the wire id is the row's id, known after the insert;
		// NULLs do not collide in the unique index meanwhile.
		row.issued = true
	}
	args := append(append([]any{row.stationID, stationTxID, row.issued}, row.indexedArgs()...), row.plainArgs()...)
	if err := q.QueryRow(ctx, insertTxSQL, args...).Scan(&row.id); err != nil {
		return csms.Transaction{}, false, err
	}
	var stmts []Statement
	if row.issued {
		row.stationTxID = strconv.FormatInt(row.id, 10)
		stmts = append(stmts, Statement{`UPDATE transactions SET station_tx_id = ? WHERE id = ?`, []any{row.stationTxID, row.id}})
	}
	// The transaction is new: its first event cannot be a replay.
	stmts = append(stmts, insertTxEventStatement(row.id, e, now))
	if err := execAll(ctx, q, append(stmts, meterValueStatements(&row, e)...)); err != nil {
		return csms.Transaction{}, false, err
	}
	s.txs.stage(&row)
	return row.transaction(), true, nil
}

// insertTxEvent records the event unless its seqNo is recorded already.
func (s *Store) insertTxEvent(ctx context.Context, q sqldb.Querier, txID int64, e *csms.TxEvent, now time.Time) (bool, error) {
	st := insertTxEventStatement(txID, e, now)
	n, err := q.Exec(ctx, st.Query, st.Args...)
	return n > 0, err
}

func insertTxEventStatement(txID int64, e *csms.TxEvent, now time.Time) Statement {
	ev := &e.Event
	var meterTS *int64
	if ts, shared := eventMeterTime(e.MeterValues); shared {
		meterTS = &ts
	}
	return Statement{`INSERT INTO transaction_events (transaction_id, seq_no, event_type, ts,
			trigger_reason, offline, raw, evse, connector, id_token, meter_wh, stop_reason, received_at, meter_ts)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (transaction_id, seq_no) DO NOTHING`,
		[]any{txID, ev.SeqNo, ev.EventType, ns(ev.Timestamp), ev.TriggerReason, ev.Offline, rawBytes(ev.Raw),
			e.EVSE, e.Connector, e.IDToken, e.MeterWh, e.StopReason, ns(now), meterTS}}
}

func foldEvent(e *csms.TxEvent) txfold.Event {
	return txfold.Event{
		Type:       e.Event.EventType,
		SeqNo:      e.Event.SeqNo,
		Timestamp:  e.Event.Timestamp,
		EVSE:       e.EVSE,
		Connector:  e.Connector,
		IDToken:    e.IDToken,
		MeterWh:    e.MeterWh,
		StopReason: e.StopReason,
	}
}

// Transaction returns a transaction by ID, or csms.ErrNotFound.
func (s *Store) Transaction(ctx context.Context, id int64) (csms.Transaction, error) {
	row, err := scanTx(s.cfg.Reader.QueryRow(ctx, `SELECT `+txColumns+` FROM transactions WHERE id = ?`, id))
	if err != nil {
		return csms.Transaction{}, s.errorf(notFound(err), "transaction %d", id)
	}
	return row.transaction(), nil
}

// TransactionByStationTxID finds a transaction by the id used on the wire,
// or returns csms.ErrNotFound.
func (s *Store) TransactionByStationTxID(ctx context.Context, stationID, stationTxID string) (csms.Transaction, error) {
	row, err := scanTx(s.cfg.Reader.QueryRow(ctx, `SELECT `+txColumns+` FROM transactions
		WHERE station_id = ? AND station_tx_id = ?`, stationID, stationTxID))
	if err != nil {
		return csms.Transaction{}, s.errorf(notFound(err), "transaction %q of station %q", stationTxID, stationID)
	}
	return row.transaction(), nil
}

// Transactions lists transactions, newest start first. The IDToken filter
// ignores case, as token lookups do.
func (s *Store) Transactions(ctx context.Context, f csms.TransactionFilter) ([]csms.Transaction, error) {
	limit, offset := f.Page.Bounds()
	where, args := transactionsWhere(f)
	query := `SELECT ` + txColumns + ` FROM transactions` + where + ` ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?`
	args = append(args, limit, offset)
	out, err := collect(ctx, s.cfg.Reader, func(r sqldb.Rows) (csms.Transaction, error) {
		row, err := scanTx(r)
		return row.transaction(), err
	}, query, args...)
	if err != nil {
		return nil, s.errorf(err, "list transactions")
	}
	return out, nil
}

// CountTransactions counts the transactions f selects, whatever its Page.
func (s *Store) CountTransactions(ctx context.Context, f csms.TransactionFilter) (int, error) {
	where, args := transactionsWhere(f)
	var n int
	if err := s.cfg.Reader.QueryRow(ctx, `SELECT COUNT(*) FROM transactions`+where, args...).Scan(&n); err != nil {
		return 0, s.errorf(err, "count transactions")
	}
	return n, nil
}

// transactionsWhere is the WHERE clause (with its leading space) of f's
// filters; the IDToken filter ignores case, as token lookups do.
func transactionsWhere(f csms.TransactionFilter) (string, []any) {
	var where []string
	var args []any
	if f.StationID != "" {
		where, args = append(where, `station_id = ?`), append(args, f.StationID)
	}
	if f.IDToken != "" {
		where, args = append(where, `id_token_key = ?`), append(args, tokenKey(f.IDToken))
	}
	if f.Status != "" {
		where, args = append(where, `status = ?`), append(args, string(f.Status))
	}
	if !f.From.IsZero() {
		where, args = append(where, `started_at >= ?`), append(args, ns(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, `started_at < ?`), append(args, ns(f.To))
	}
	if len(where) == 0 {
		return "", nil
	}
	return ` WHERE ` + strings.Join(where, ` AND `), args
}

// TransactionEvents returns a transaction's events in seqNo order, or
// csms.ErrNotFound for an unknown transaction.
func (s *Store) TransactionEvents(ctx context.Context, id int64) ([]csms.TransactionEvent, error) {
	out, err := collect(ctx, s.cfg.Reader, func(r sqldb.Rows) (csms.TransactionEvent, error) {
		var e csms.TransactionEvent
		var ts int64
		var raw []byte
		err := r.Scan(&e.TransactionID, &e.EventType, &e.SeqNo, &ts, &e.TriggerReason, &e.Offline, &raw)
		e.Timestamp = fromNS(ts)
		if len(raw) > 0 {
			e.Raw = json.RawMessage(raw)
		}
		return e, err
	}, `SELECT transaction_id, event_type, seq_no, ts, trigger_reason, offline, raw
		FROM transaction_events WHERE transaction_id = ? ORDER BY seq_no, ts`, id)
	if err == nil && len(out) == 0 {
		err = s.txExists(ctx, id)
	}
	if err != nil {
		return nil, s.errorf(err, "events of transaction %d", id)
	}
	return out, nil
}

// txExists returns csms.ErrNotFound for an unknown transaction.
func (s *Store) txExists(ctx context.Context, id int64) error {
	var one int
	return notFound(s.cfg.Reader.QueryRow(ctx, `SELECT 1 FROM transactions WHERE id = ?`, id).Scan(&one))
}

// txKey is a transaction's identity on the wire.
type txKey struct{ station, stationTx string }

// txCache keeps the rows of the transactions the committer wrote last, so
// that the next event of a running transaction (the common write) needs no
// SELECT. A row a write produces is staged: later writes of the same
// database transaction see it, and it joins the kept rows only when that
// transaction commits. Used on the committer goroutine only, so unlocked.
//
// Its contents are always rows as they are committed: a rollback drops the
// staged rows (the kept ones are again what the database holds), an
// outcome that is not known drops everything, and a kept row whose
// transaction a rolled-back savepoint may have touched is dropped.
type txCache struct {
	limit  int
	rows   map[int64]txRow // as committed
	keys   map[txKey]int64 // of rows; a key never changes its id once committed
	staged map[int64]txRow // written by the open transaction
}

func newTxCache(limit int) *txCache {
	return &txCache{limit: limit, rows: map[int64]txRow{}, keys: map[txKey]int64{}, staged: map[int64]txRow{}}
}

// byKey returns the row of a station's transaction, if kept.
func (c *txCache) byKey(k txKey) (txRow, bool) {
	if c == nil {
		return txRow{}, false
	}
	id, ok := c.keys[k]
	if !ok {
		return txRow{}, false
	}
	return c.byID(id)
}

// byID returns the row with this id, if kept.
func (c *txCache) byID(id int64) (txRow, bool) {
	if c == nil {
		return txRow{}, false
	}
	if r, ok := c.staged[id]; ok {
		return r, true
	}
	r, ok := c.rows[id]
	return r, ok
}

// stage records the row as the open transaction has written it, with its
// times as they read back from the database.
func (c *txCache) stage(r *txRow) {
	if c == nil {
		return
	}
	kept := *r
	f := &kept.fold
	f.StartedAt = fromNS(ns(f.StartedAt))
	if f.Finished() {
		f.StoppedAt = fromNS(ns(f.StoppedAt))
	} else {
		f.StoppedAt = time.Time{} // stored as NULL
	}
	c.staged[r.id] = kept
}

// discard forgets the staged rows, and their kept versions, after a
// savepoint rollback: the rows of the transaction are then unknown. It is
// deliberately pessimistic — the failed write staged nothing, and writes of
// the same batch that succeeded would still be right — because a failed
// write is rare and a few extra SELECTs are cheaper than a subtle cache bug.
func (c *txCache) discard() {
	for id := range c.staged {
		c.forget(id)
	}
	clear(c.staged)
}

// end moves the staged rows to the kept ones if the transaction committed.
func (c *txCache) end(o groupcommit.Outcome) {
	switch o {
	case groupcommit.Committed:
		for id, r := range c.staged {
			c.rows[id] = r
			c.keys[txKey{r.stationID, r.stationTxID}] = id
		}
		clear(c.staged)
		for id := range c.rows { // random order: a cheap eviction
			if len(c.rows) <= c.limit {
				break
			}
			c.forget(id)
		}
	case groupcommit.RolledBack:
		clear(c.staged)
	default:
		c.reset()
	}
}

// forget drops one kept row.
func (c *txCache) forget(id int64) {
	if r, ok := c.rows[id]; ok {
		delete(c.keys, txKey{r.stationID, r.stationTxID})
		delete(c.rows, id)
	}
}

// reset forgets everything: another connection may have changed any row.
func (c *txCache) reset() {
	clear(c.rows)
	clear(c.keys)
	clear(c.staged)
}
