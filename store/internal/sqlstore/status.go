package sqlstore

import (
	"context"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/store/internal/sqldb"
)

const statusColumns = `station_id, evse, connector, status, raw, error_code, info, ts`

func scanStatus(r sqldb.Rows) (csms.ConnectorStatus, error) {
	var c csms.ConnectorStatus
	var ts int64
	err := r.Scan(&c.StationID, &c.EVSE, &c.Connector, &c.Status, &c.Raw, &c.ErrorCode, &c.Info, &ts)
	c.Timestamp = fromNS(ts)
	return c, err
}

// RecordStatus appends st to the history and makes it its connector's
// current status unless the current one is newer. Of two notifications
// with the same timestamp the later arrival wins.
func (s *Store) RecordStatus(ctx context.Context, st csms.ConnectorStatus) error {
	switch {
	case st.StationID == "":
		return s.errorf(invalid("empty station id"), "record status")
	case st.Status == "":
		return s.errorf(invalid("empty status"), "record status of %q", st.StationID)
	case st.EVSE < 0 || st.Connector < 0:
		return s.errorf(invalid("negative EVSE %d or connector %d", st.EVSE, st.Connector), "record status of %q", st.StationID)
	case st.Timestamp.IsZero() || !validTime(st.Timestamp):
		return s.errorf(invalid("timestamp %v missing or out of range", st.Timestamp), "record status of %q", st.StationID)
	}
	args := []any{st.StationID, st.EVSE, st.Connector, st.Status, st.Raw, st.ErrorCode, st.Info, ns(st.Timestamp)}
	err := s.write(ctx, func(ctx context.Context, q sqldb.Querier) error {
		if _, err := q.Exec(ctx, `INSERT INTO status_history (`+statusColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `INSERT INTO connector_status (`+statusColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (station_id, evse, connector) DO UPDATE SET status = excluded.status,
				raw = excluded.raw, error_code = excluded.error_code, info = excluded.info, ts = excluded.ts
			WHERE excluded.ts >= connector_status.ts`, args...)
		return err
	})
	if err != nil {
		return s.errorf(err, "record status of %q EVSE %d connector %d", st.StationID, st.EVSE, st.Connector)
	}
	return nil
}

// ConnectorStatuses returns the current status of each connector of a
// station, ordered by EVSE and connector.
func (s *Store) ConnectorStatuses(ctx context.Context, stationID string) ([]csms.ConnectorStatus, error) {
	out, err := collect(ctx, s.cfg.Reader, scanStatus, `SELECT `+statusColumns+`
		FROM connector_status WHERE station_id = ? ORDER BY evse, connector`, stationID)
	if err != nil {
		return nil, s.errorf(err, "connector statuses of %q", stationID)
	}
	return out, nil
}

// StatusHistory returns a station's notifications, newest first.
func (s *Store) StatusHistory(ctx context.Context, stationID string, p csms.Page) ([]csms.ConnectorStatus, error) {
	limit, offset := p.Bounds()
	out, err := collect(ctx, s.cfg.Reader, scanStatus, `SELECT `+statusColumns+`
		FROM status_history WHERE station_id = ? ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?`,
		stationID, limit, offset)
	if err != nil {
		return nil, s.errorf(err, "status history of %q", stationID)
	}
	return out, nil
}
