package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/store/internal/sqldb"
)

// RecordStationEvent logs a notice from a station and returns its ID.
func (s *Store) RecordStationEvent(ctx context.Context, e csms.StationEvent) (int64, error) {
	switch {
	case e.StationID == "":
		return 0, s.errorf(invalid("empty station id"), "record station event")
	case e.Kind == "":
		return 0, s.errorf(invalid("empty kind"), "record station event of %q", e.StationID)
	case e.Timestamp.IsZero() || !validTime(e.Timestamp):
		return 0, s.errorf(invalid("timestamp %v missing or out of range", e.Timestamp), "record %s of %q", e.Kind, e.StationID)
	}
	var id int64
	err := s.write(ctx, func(ctx context.Context, q sqldb.Querier) error {
		return q.QueryRow(ctx, `INSERT INTO station_events (station_id, kind, ts, payload)
			VALUES (?, ?, ?, ?) RETURNING id`, e.StationID, e.Kind, ns(e.Timestamp), rawBytes(e.Payload)).Scan(&id)
	})
	if err != nil {
		return 0, s.errorf(err, "record %s of %q", e.Kind, e.StationID)
	}
	return id, nil
}

// StationEvents lists a station's notices, newest first; kind "" means all.
func (s *Store) StationEvents(ctx context.Context, stationID, kind string, p csms.Page) ([]csms.StationEvent, error) {
	limit, offset := p.Bounds()
	query := `SELECT id, station_id, kind, ts, payload FROM station_events WHERE station_id = ?`
	args := []any{stationID}
	if kind != "" {
		query += ` AND kind = ?`
		args = append(args, kind)
	}
	query += ` ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?`
	args = append(args, limit, offset)
	out, err := collect(ctx, s.cfg.Reader, func(r sqldb.Rows) (csms.StationEvent, error) {
		var e csms.StationEvent
		var ts int64
		var payload []byte
		err := r.Scan(&e.ID, &e.StationID, &e.Kind, &ts, &payload)
		e.Timestamp = fromNS(ts)
		if len(payload) > 0 {
			e.Payload = json.RawMessage(payload)
		}
		return e, err
	}, query, args...)
	if err != nil {
		return nil, s.errorf(err, "station events of %q", stationID)
	}
	return out, nil
}
