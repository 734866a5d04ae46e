package sqlstore

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/store/internal/sqldb"
)

// tokenKey is the case-insensitive key of a token value.
func tokenKey(id string) string { return strings.ToLower(id) }

const tokenColumns = `id, type, status, expires_at, group_id, stations, created_at, updated_at`

func scanToken(r sqldb.Row) (csms.IDToken, error) {
	var t csms.IDToken
	var status, stations string
	var expires *int64
	var created, updated int64
	if err := r.Scan(&t.ID, &t.Type, &status, &expires, &t.GroupID, &stations, &created, &updated); err != nil {
		return t, err
	}
	t.Status = csms.TokenStatus(status)
	if expires != nil {
		e := fromNS(*expires)
		t.ExpiresAt = &e
	}
	if err := json.Unmarshal([]byte(stations), &t.Stations); err != nil {
		return t, err
	}
	if len(t.Stations) == 0 {
		t.Stations = nil
	}
	t.CreatedAt, t.UpdatedAt = fromNS(created), fromNS(updated)
	return t, nil
}

// SaveToken creates or replaces the token with t.ID, ignoring case: saving
// "abc" replaces "ABC" (and stores the new spelling). A replaced token
// keeps its CreatedAt.
func (s *Store) SaveToken(ctx context.Context, t csms.IDToken) error {
	if t.ID == "" {
		return s.errorf(invalid("empty token id"), "save token")
	}
	switch t.Status {
	case csms.TokenAccepted, csms.TokenBlocked, csms.TokenExpired, csms.TokenInvalid:
	default:
		return s.errorf(invalid("unknown token status %q", t.Status), "save token %q", t.ID)
	}
	if t.ExpiresAt != nil && !validTime(*t.ExpiresAt) {
		return s.errorf(invalid("expiry %v out of range", *t.ExpiresAt), "save token %q", t.ID)
	}
	stations := t.Stations
	if stations == nil {
		stations = []string{}
	}
	js, err := json.Marshal(stations)
	if err != nil {
		return s.errorf(err, "save token %q", t.ID)
	}
	var expires *int64
	if t.ExpiresAt != nil {
		v := ns(*t.ExpiresAt)
		expires = &v
	}
	now := s.cfg.Now()
	created := t.CreatedAt
	if created.IsZero() || !validTime(created) {
		created = now
	}
	err = s.write(ctx, func(ctx context.Context, q sqldb.Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO id_tokens (id_key, `+tokenColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id_key) DO UPDATE SET id = excluded.id, type = excluded.type,
				status = excluded.status, expires_at = excluded.expires_at, group_id = excluded.group_id,
				stations = excluded.stations, updated_at = excluded.updated_at`,
			tokenKey(t.ID), t.ID, t.Type, string(t.Status), expires, t.GroupID, string(js), ns(created), ns(now))
		return err
	})
	if err != nil {
		return s.errorf(err, "save token %q", t.ID)
	}
	return nil
}

// Token returns a token by value, ignoring case, or csms.ErrNotFound.
func (s *Store) Token(ctx context.Context, id string) (csms.IDToken, error) {
	t, err := scanToken(s.cfg.Reader.QueryRow(ctx, `SELECT `+tokenColumns+` FROM id_tokens WHERE id_key = ?`, tokenKey(id)))
	if err != nil {
		return csms.IDToken{}, s.errorf(notFound(err), "token %q", id)
	}
	return t, nil
}

// Tokens lists tokens ordered by ID (ignoring case).
func (s *Store) Tokens(ctx context.Context, p csms.Page) ([]csms.IDToken, error) {
	limit, offset := p.Bounds()
	out, err := collect(ctx, s.cfg.Reader, func(r sqldb.Rows) (csms.IDToken, error) { return scanToken(r) },
		`SELECT `+tokenColumns+` FROM id_tokens ORDER BY id_key LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, s.errorf(err, "list tokens")
	}
	return out, nil
}

// CountTokens counts every token.
func (s *Store) CountTokens(ctx context.Context) (int, error) {
	var n int
	if err := s.cfg.Reader.QueryRow(ctx, `SELECT COUNT(*) FROM id_tokens`).Scan(&n); err != nil {
		return 0, s.errorf(err, "count tokens")
	}
	return n, nil
}

// DeleteToken removes a token, ignoring case, or returns csms.ErrNotFound.
func (s *Store) DeleteToken(ctx context.Context, id string) error {
	err := s.write(ctx, func(ctx context.Context, q sqldb.Querier) error {
		n, err := q.Exec(ctx, `DELETE FROM id_tokens WHERE id_key = ?`, tokenKey(id))
		if err == nil && n == 0 {
			err = csms.ErrNotFound
		}
		return err
	})
	if err != nil {
		return s.errorf(err, "delete token %q", id)
	}
	return nil
}
