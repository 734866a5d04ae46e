package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openev/openev/csms"
)

// storeBuckets span a cached read (tens of microseconds) to a commit that
// waits for a slow disk or a far database (seconds).
var storeBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Store wraps s so that every call is timed in
// openev_store_duration_seconds{op="<method>"}, errors included. The CSMS
// answers a station only after its write returns, so this is the share of
// openev_ocpp_call_duration_seconds spent in the database. Close is not
// timed. A store that tells its queue (QueuedWrites) also gets the gauge
// openev_store_writes_queued. Call it once per Metrics.
func (m *Metrics) Store(s csms.Store) csms.Store {
	if q, ok := s.(queuedWriter); ok {
		m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "openev_store_writes_queued",
			Help: "Writes waiting for the store's group committer, beside the batch it is committing.",
		}, func() float64 { return float64(q.QueuedWrites()) }))
	}
	return &timedStore{s: s, h: m.storeLatency}
}

// queuedWriter is a store that tells how many writes wait for its
// committer (the SQLite and PostgreSQL stores).
type queuedWriter interface{ QueuedWrites() int }

// timedStore is a csms.Store that observes each call's latency.
type timedStore struct {
	s csms.Store
	h *prometheus.HistogramVec
}

func (t *timedStore) since(op string, start time.Time) {
	t.h.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

func (t *timedStore) SaveStation(ctx context.Context, s csms.Station) error {
	defer t.since("SaveStation", time.Now())
	return t.s.SaveStation(ctx, s)
}

func (t *timedStore) Station(ctx context.Context, id string) (csms.Station, error) {
	defer t.since("Station", time.Now())
	return t.s.Station(ctx, id)
}

func (t *timedStore) Stations(ctx context.Context, f csms.StationFilter) ([]csms.Station, error) {
	defer t.since("Stations", time.Now())
	return t.s.Stations(ctx, f)
}

func (t *timedStore) DeleteStation(ctx context.Context, id string) error {
	defer t.since("DeleteStation", time.Now())
	return t.s.DeleteStation(ctx, id)
}

func (t *timedStore) StationSeen(ctx context.Context, id string, online bool, at time.Time) error {
	defer t.since("StationSeen", time.Now())
	return t.s.StationSeen(ctx, id, online, at)
}

func (t *timedStore) RecordStatus(ctx context.Context, st csms.ConnectorStatus) error {
	defer t.since("RecordStatus", time.Now())
	return t.s.RecordStatus(ctx, st)
}

func (t *timedStore) ConnectorStatuses(ctx context.Context, stationID string) ([]csms.ConnectorStatus, error) {
	defer t.since("ConnectorStatuses", time.Now())
	return t.s.ConnectorStatuses(ctx, stationID)
}

func (t *timedStore) StatusHistory(ctx context.Context, stationID string, p csms.Page) ([]csms.ConnectorStatus, error) {
	defer t.since("StatusHistory", time.Now())
	return t.s.StatusHistory(ctx, stationID, p)
}

func (t *timedStore) SaveToken(ctx context.Context, tok csms.IDToken) error {
	defer t.since("SaveToken", time.Now())
	return t.s.SaveToken(ctx, tok)
}

func (t *timedStore) Token(ctx context.Context, id string) (csms.IDToken, error) {
	defer t.since("Token", time.Now())
	return t.s.Token(ctx, id)
}

func (t *timedStore) Tokens(ctx context.Context, p csms.Page) ([]csms.IDToken, error) {
	defer t.since("Tokens", time.Now())
	return t.s.Tokens(ctx, p)
}

func (t *timedStore) DeleteToken(ctx context.Context, id string) error {
	defer t.since("DeleteToken", time.Now())
	return t.s.DeleteToken(ctx, id)
}

func (t *timedStore) RecordTransactionEvent(ctx context.Context, e csms.TxEvent) (csms.Transaction, bool, error) {
	defer t.since("RecordTransactionEvent", time.Now())
	return t.s.RecordTransactionEvent(ctx, e)
}

func (t *timedStore) Transaction(ctx context.Context, id int64) (csms.Transaction, error) {
	defer t.since("Transaction", time.Now())
	return t.s.Transaction(ctx, id)
}

func (t *timedStore) TransactionByStationTxID(ctx context.Context, stationID, stationTxID string) (csms.Transaction, error) {
	defer t.since("TransactionByStationTxID", time.Now())
	return t.s.TransactionByStationTxID(ctx, stationID, stationTxID)
}

func (t *timedStore) CountStations(ctx context.Context, f csms.StationFilter) (int, error) {
	defer t.since("CountStations", time.Now())
	return t.s.CountStations(ctx, f)
}

func (t *timedStore) CountTokens(ctx context.Context) (int, error) {
	defer t.since("CountTokens", time.Now())
	return t.s.CountTokens(ctx)
}

func (t *timedStore) CountTransactions(ctx context.Context, f csms.TransactionFilter) (int, error) {
	defer t.since("CountTransactions", time.Now())
	return t.s.CountTransactions(ctx, f)
}

func (t *timedStore) Transactions(ctx context.Context, f csms.TransactionFilter) ([]csms.Transaction, error) {
	defer t.since("Transactions", time.Now())
	return t.s.Transactions(ctx, f)
}

func (t *timedStore) TransactionEvents(ctx context.Context, id int64) ([]csms.TransactionEvent, error) {
	defer t.since("TransactionEvents", time.Now())
	return t.s.TransactionEvents(ctx, id)
}

func (t *timedStore) MeterValues(ctx context.Context, transactionID int64) ([]csms.MeterValue, error) {
	defer t.since("MeterValues", time.Now())
	return t.s.MeterValues(ctx, transactionID)
}

func (t *timedStore) RecordMeterValues(ctx context.Context, mv []csms.MeterValue) error {
	defer t.since("RecordMeterValues", time.Now())
	return t.s.RecordMeterValues(ctx, mv)
}

func (t *timedStore) RecordStationEvent(ctx context.Context, e csms.StationEvent) (int64, error) {
	defer t.since("RecordStationEvent", time.Now())
	return t.s.RecordStationEvent(ctx, e)
}

func (t *timedStore) StationEvents(ctx context.Context, stationID, kind string, p csms.Page) ([]csms.StationEvent, error) {
	defer t.since("StationEvents", time.Now())
	return t.s.StationEvents(ctx, stationID, kind, p)
}

func (t *timedStore) Close() error { return t.s.Close() }
