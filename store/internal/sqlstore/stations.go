package sqlstore

import (
	"context"
	"time"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/store/internal/sqldb"
)

const stationColumns = `id, vendor, model, serial_number, firmware_version, protocol,
	security_profile, password_hash, registration, online, last_seen,
	firmware_status, diagnostics_status, log_status, created_at, updated_at`

func scanStation(r sqldb.Row) (csms.Station, error) {
	var st csms.Station
	var lastSeen *int64
	var created, updated int64
	err := r.Scan(&st.ID, &st.Vendor, &st.Model, &st.SerialNumber, &st.FirmwareVersion,
		&st.Protocol, &st.SecurityProfile, &st.PasswordHash, &st.Registration, &st.Online,
		&lastSeen, &st.FirmwareStatus, &st.DiagnosticsStatus, &st.LogStatus, &created, &updated)
	st.LastSeen = fromNullNS(lastSeen)
	st.CreatedAt, st.UpdatedAt = fromNS(created), fromNS(updated)
	return st, err
}

// SaveStation creates or replaces the station with st.ID. A replaced
// station keeps its CreatedAt; a new one takes st.CreatedAt, or now.
func (s *Store) SaveStation(ctx context.Context, st csms.Station) error {
	if st.ID == "" {
		return s.errorf(invalid("empty station id"), "save station")
	}
	if st.SecurityProfile < 0 || st.SecurityProfile > 3 {
		// Authenticate refuses any other value; storing one would lock the station out.
		return s.errorf(invalid("security profile %d: want 0, 1, 2 or 3", st.SecurityProfile), "save station %q", st.ID)
	}
	if !st.LastSeen.IsZero() && !validTime(st.LastSeen) {
		return s.errorf(invalid("last seen %v out of range", st.LastSeen), "save station %q", st.ID)
	}
	now := s.cfg.Now()
	created := st.CreatedAt
	if created.IsZero() || !validTime(created) {
		created = now
	}
	err := s.write(ctx, func(ctx context.Context, q sqldb.Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO stations (`+stationColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET vendor = excluded.vendor, model = excluded.model,
				serial_number = excluded.serial_number, firmware_version = excluded.firmware_version,
				protocol = excluded.protocol, security_profile = excluded.security_profile,
				password_hash = excluded.password_hash, registration = excluded.registration,
				online = excluded.online, last_seen = excluded.last_seen,
				firmware_status = excluded.firmware_status, diagnostics_status = excluded.diagnostics_status,
				log_status = excluded.log_status, updated_at = excluded.updated_at`,
			st.ID, st.Vendor, st.Model, st.SerialNumber, st.FirmwareVersion, st.Protocol,
			st.SecurityProfile, st.PasswordHash, string(st.Registration), st.Online, nullNS(st.LastSeen),
			st.FirmwareStatus, st.DiagnosticsStatus, st.LogStatus, ns(created), ns(now))
		return err
	})
	if err != nil {
		return s.errorf(err, "save station %q", st.ID)
	}
	return nil
}

// Station returns one station, or csms.ErrNotFound.
func (s *Store) Station(ctx context.Context, id string) (csms.Station, error) {
	st, err := scanStation(s.cfg.Reader.QueryRow(ctx, `SELECT `+stationColumns+` FROM stations WHERE id = ?`, id))
	if err != nil {
		return csms.Station{}, s.errorf(notFound(err), "station %q", id)
	}
	return st, nil
}

// Stations lists stations ordered by ID.
func (s *Store) Stations(ctx context.Context, f csms.StationFilter) ([]csms.Station, error) {
	limit, offset := f.Page.Bounds()
	where, args := stationsWhere(f)
	query := `SELECT ` + stationColumns + ` FROM stations` + where + ` ORDER BY id LIMIT ? OFFSET ?`
	args = append(args, limit, offset)
	out, err := collect(ctx, s.cfg.Reader, func(r sqldb.Rows) (csms.Station, error) { return scanStation(r) }, query, args...)
	if err != nil {
		return nil, s.errorf(err, "list stations")
	}
	return out, nil
}

// CountStations counts the stations f selects, whatever its Page.
func (s *Store) CountStations(ctx context.Context, f csms.StationFilter) (int, error) {
	where, args := stationsWhere(f)
	var n int
	if err := s.cfg.Reader.QueryRow(ctx, `SELECT COUNT(*) FROM stations`+where, args...).Scan(&n); err != nil {
		return 0, s.errorf(err, "count stations")
	}
	return n, nil
}

// stationsWhere is the WHERE clause (with its leading space) of f's filters.
func stationsWhere(f csms.StationFilter) (string, []any) {
	if f.Online == nil {
		return "", nil
	}
	return ` WHERE online = ?`, []any{*f.Online}
}

// DeleteStation removes a station and its current connector statuses; its
// history (status notifications, transactions, events) stays.
func (s *Store) DeleteStation(ctx context.Context, id string) error {
	err := s.write(ctx, func(ctx context.Context, q sqldb.Querier) error {
		n, err := q.Exec(ctx, `DELETE FROM stations WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return csms.ErrNotFound
		}
		_, err = q.Exec(ctx, `DELETE FROM connector_status WHERE station_id = ?`, id)
		return err
	})
	if err != nil {
		return s.errorf(err, "delete station %q", id)
	}
	return nil
}

// StationSeen records that a station is online or offline as of at. A
// notice older than the one recorded is ignored, so that the disconnect of
// an old connection, processed late, cannot mark a reconnected station
// offline.
func (s *Store) StationSeen(ctx context.Context, id string, online bool, at time.Time) error {
	if at.IsZero() || !validTime(at) {
		return s.errorf(invalid("time %v missing or out of range", at), "station %q seen", id)
	}
	err := s.write(ctx, func(ctx context.Context, q sqldb.Querier) error {
		n, err := q.Exec(ctx, `UPDATE stations SET online = ?, last_seen = ?
			WHERE id = ? AND (last_seen IS NULL OR last_seen <= ?)`, online, ns(at), id, ns(at))
		if err != nil || n > 0 {
			return err
		}
		var one int
		return notFound(q.QueryRow(ctx, `SELECT 1 FROM stations WHERE id = ?`, id).Scan(&one))
	})
	if err != nil {
		return s.errorf(err, "station %q seen", id)
	}
	return nil
}
