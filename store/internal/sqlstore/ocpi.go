package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openev/openev/ocpi"
	"github.com/openev/openev/store"
	"github.com/openev/openev/store/internal/sqldb"
)

// The OCPI node's store: the same Store also implements ocpi.Store, on the
// tables of migration 0002 (ocpi_peers, ocpi_objects; 0004 adds
// ocpi_peers.raw_token_fixed).
var _ ocpi.Store = (*Store)(nil)

// ocpiNotFound maps the driver's "no rows" to ocpi.ErrNotFound.
func ocpiNotFound(err error) error {
	if errors.Is(err, sqldb.ErrNoRows) {
		return ocpi.ErrNotFound
	}
	return err
}

// badText reports a string PostgreSQL's TEXT cannot hold (NUL bytes or
// invalid UTF-8); both backends reject it, so they behave alike.
func badText(ss ...string) bool {
	for _, s := range ss {
		if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
			return true
		}
	}
	return false
}

const peerColumns = `id, name, status, incoming_token, previous_incoming_token, previous_token_expires,
	outgoing_token, raw_token, raw_token_fixed, versions_url, version, endpoints, roles, created, updated`

func scanPeer(r sqldb.Row) (ocpi.Peer, error) {
	var p ocpi.Peer
	var status, version, endpoints, roles string
	var expires *int64
	var created, updated int64
	if err := r.Scan(&p.ID, &p.Name, &status, &p.IncomingToken, &p.PreviousIncomingToken, &expires,
		&p.OutgoingToken, &p.RawToken, &p.RawTokenFixed, &p.VersionsURL, &version, &endpoints, &roles, &created, &updated); err != nil {
		return p, err
	}
	p.Status, p.Version = ocpi.PeerStatus(status), ocpi.VersionNumber(version)
	p.PreviousTokenExpires = fromNullNS(expires)
	p.Created, p.Updated = fromNS(created), fromNS(updated)
	if err := json.Unmarshal([]byte(endpoints), &p.Endpoints); err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(roles), &p.Roles); err != nil {
		return p, err
	}
	if len(p.Endpoints) == 0 {
		p.Endpoints = nil
	}
	if len(p.Roles) == 0 {
		p.Roles = nil
	}
	return p, nil
}

// SavePeer creates or replaces the peer with p.ID. A replaced peer keeps
// its Created; Updated is now. A non-empty IncomingToken that another peer
// already has is rejected (store.ErrInvalid), as tokens identify peers.
func (s *Store) SavePeer(ctx context.Context, p ocpi.Peer) error {
	if p.ID == "" {
		return s.errorf(invalid("empty peer id"), "save peer")
	}
	switch p.Status {
	case ocpi.PeerPending, ocpi.PeerRegistered, ocpi.PeerUnregistered:
	default:
		return s.errorf(invalid("unknown status %q: want %s, %s or %s", p.Status,
			ocpi.PeerPending, ocpi.PeerRegistered, ocpi.PeerUnregistered), "save peer %q", p.ID)
	}
	if !p.PreviousTokenExpires.IsZero() && !validTime(p.PreviousTokenExpires) {
		return s.errorf(invalid("previous token expiry %v out of range", p.PreviousTokenExpires), "save peer %q", p.ID)
	}
	if badText(p.ID, p.Name, p.IncomingToken, p.PreviousIncomingToken, p.OutgoingToken, p.VersionsURL, string(p.Version)) {
		return s.errorf(invalid("a field holds a NUL byte or invalid UTF-8"), "save peer %q", p.ID)
	}
	endpoints, err := json.Marshal(nonNil(p.Endpoints))
	if err != nil {
		return s.errorf(invalid("endpoints: %v", err), "save peer %q", p.ID)
	}
	roles, err := json.Marshal(nonNil(p.Roles))
	if err != nil {
		return s.errorf(invalid("roles: %v", err), "save peer %q", p.ID)
	}
	now := ns(s.cfg.Now())
	err = s.write(ctx, func(ctx context.Context, q sqldb.Querier) error {
		if p.IncomingToken != "" {
			// The unique index guards this too; checking first gives the
			// caller an error that says what is wrong.
			var other string
			err := q.QueryRow(ctx, `SELECT id FROM ocpi_peers
				WHERE incoming_token = ? AND incoming_token <> '' AND id <> ?`, p.IncomingToken, p.ID).Scan(&other)
			if err == nil {
				return invalid("incoming token already belongs to peer %q; issue a new token", other)
			}
			if !errors.Is(err, sqldb.ErrNoRows) {
				return err
			}
		}
		_, err := q.Exec(ctx, `INSERT INTO ocpi_peers (`+peerColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status,
				incoming_token = excluded.incoming_token,
				previous_incoming_token = excluded.previous_incoming_token,
				previous_token_expires = excluded.previous_token_expires,
				outgoing_token = excluded.outgoing_token, raw_token = excluded.raw_token,
				raw_token_fixed = excluded.raw_token_fixed,
				versions_url = excluded.versions_url, version = excluded.version,
				endpoints = excluded.endpoints, roles = excluded.roles, updated = excluded.updated`,
			p.ID, p.Name, string(p.Status), p.IncomingToken, p.PreviousIncomingToken, nullNS(p.PreviousTokenExpires),
			p.OutgoingToken, p.RawToken, p.RawTokenFixed, p.VersionsURL, string(p.Version), string(endpoints), string(roles), now, now)
		return err
	})
	if err != nil && p.IncomingToken != "" && !errors.Is(err, store.ErrInvalid) && ctx.Err() == nil {
		// Another node gave the token away between the check and the
		// insert, and the unique index refused it: the same bad input.
		var other string
		if s.cfg.Reader.QueryRow(ctx, `SELECT id FROM ocpi_peers
			WHERE incoming_token = ? AND incoming_token <> '' AND id <> ?`, p.IncomingToken, p.ID).Scan(&other) == nil {
			err = invalid("incoming token already belongs to peer %q; issue a new token", other)
		}
	}
	if err != nil {
		return s.errorf(err, "save peer %q", p.ID)
	}
	return nil
}

// nonNil makes a nil slice encode as [] rather than null.
func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// Peer returns the peer with id, or ocpi.ErrNotFound.
func (s *Store) Peer(ctx context.Context, id string) (ocpi.Peer, error) {
	p, err := scanPeer(s.cfg.Reader.QueryRow(ctx, `SELECT `+peerColumns+` FROM ocpi_peers WHERE id = ?`, id))
	if err != nil {
		return ocpi.Peer{}, s.errorf(ocpiNotFound(err), "peer %q", id)
	}
	return p, nil
}

// PeerByToken returns the peer whose IncomingToken is token, else the one
// whose PreviousIncomingToken is token and has an expiry (past or not: the
// ocpi.Node compares it with its own clock), or ocpi.ErrNotFound. Tokens
// are compared exactly; the empty token matches no peer.
func (s *Store) PeerByToken(ctx context.Context, token string) (ocpi.Peer, error) {
	if token == "" || badText(token) {
		return ocpi.Peer{}, s.errorf(ocpi.ErrNotFound, "peer by token")
	}
	// The "<> ''" terms let both databases use the partial indexes.
	p, err := scanPeer(s.cfg.Reader.QueryRow(ctx, `SELECT `+peerColumns+` FROM ocpi_peers
		WHERE (incoming_token = ? AND incoming_token <> '')
			OR (previous_incoming_token = ? AND previous_incoming_token <> '' AND previous_token_expires IS NOT NULL)
		ORDER BY CASE WHEN incoming_token = ? THEN 0 ELSE 1 END, created, id
		LIMIT 1`, token, token, token))
	if err != nil {
		return ocpi.Peer{}, s.errorf(ocpiNotFound(err), "peer by token")
	}
	return p, nil
}

// Peers lists every peer, oldest first (then by ID).
func (s *Store) Peers(ctx context.Context) ([]ocpi.Peer, error) {
	out, err := collect(ctx, s.cfg.Reader, func(r sqldb.Rows) (ocpi.Peer, error) { return scanPeer(r) },
		`SELECT `+peerColumns+` FROM ocpi_peers ORDER BY created, id`)
	if err != nil {
		return nil, s.errorf(err, "list peers")
	}
	return out, nil
}

// DeletePeer removes the peer, or returns ocpi.ErrNotFound.
func (s *Store) DeletePeer(ctx context.Context, id string) error {
	err := s.write(ctx, func(ctx context.Context, q sqldb.Querier) error {
		n, err := q.Exec(ctx, `DELETE FROM ocpi_peers WHERE id = ?`, id)
		if err == nil && n == 0 {
			err = ocpi.ErrNotFound
		}
		return err
	})
	if err != nil {
		return s.errorf(err, "delete peer %q", id)
	}
	return nil
}

// objectIDKey is the case-insensitive key of an object id.
func objectIDKey(id string) string { return strings.ToLower(id) }

// checkKind rejects an object kind or module no object can have.
func checkKind(kind ocpi.ObjectKind, module ocpi.ModuleID) error {
	if kind != ocpi.Owned && kind != ocpi.Received {
		return invalid("unknown object kind %q: want %q or %q", kind, ocpi.Owned, ocpi.Received)
	}
	if module == "" {
		return invalid("module is missing")
	}
	if badText(string(module)) {
		return invalid("module %q holds a NUL byte or invalid UTF-8", module)
	}
	return nil
}

func invalidOwner(p ocpi.PartyID) error {
	return invalid("owner %q is not a party (2-letter country code, 3-character party id)", p)
}

const objectColumns = `kind, module, owner_cc, owner_pid, id, last_updated, data`

func scanObject(r sqldb.Row) (ocpi.Object, error) {
	var o ocpi.Object
	var kind, module, data string
	var updated int64
	if err := r.Scan(&kind, &module, &o.Owner.CountryCode, &o.Owner.PartyID, &o.ID, &updated, &data); err != nil {
		return o, err
	}
	o.Kind, o.Module = ocpi.ObjectKind(kind), ocpi.ModuleID(module)
	o.LastUpdated = fromNS(updated)
	o.Data = json.RawMessage(data)
	return o, nil
}

// PutObject creates or replaces an object, keyed by kind, module, owner
// (ignoring case) and id (ignoring case); the stored owner is upper-cased
// and the stored id is spelled as in this write.
func (s *Store) PutObject(ctx context.Context, o ocpi.Object) error {
	if err := checkKind(o.Kind, o.Module); err != nil {
		return s.errorf(err, "put %s %s object %q", o.Kind, o.Module, o.ID)
	}
	switch {
	case o.ID == "":
		return s.errorf(invalid("empty id"), "put %s %s object", o.Kind, o.Module)
	case badText(o.ID):
		return s.errorf(invalid("id holds a NUL byte or invalid UTF-8"), "put %s %s object %q", o.Kind, o.Module, o.ID)
	case !o.Owner.Valid():
		return s.errorf(invalidOwner(o.Owner), "put %s %s object %q", o.Kind, o.Module, o.ID)
	case o.LastUpdated.IsZero():
		return s.errorf(invalid("last_updated is missing"), "put %s %s object %q", o.Kind, o.Module, o.ID)
	case !validTime(o.LastUpdated):
		return s.errorf(invalid("last_updated %v out of range", o.LastUpdated), "put %s %s object %q", o.Kind, o.Module, o.ID)
	case len(o.Data) == 0 || !json.Valid(o.Data) || !utf8.Valid(o.Data):
		return s.errorf(invalid("data is not JSON"), "put %s %s object %q", o.Kind, o.Module, o.ID)
	}
	owner := o.Owner.Key()
	err := s.write(ctx, func(ctx context.Context, q sqldb.Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO ocpi_objects (kind, module, owner_cc, owner_pid, id_key, id, last_updated, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (kind, module, owner_cc, owner_pid, id_key) DO UPDATE SET id = excluded.id,
				last_updated = excluded.last_updated, data = excluded.data`,
			string(o.Kind), string(o.Module), owner.CountryCode, owner.PartyID, objectIDKey(o.ID), o.ID,
			ns(o.LastUpdated), string(o.Data))
		return err
	})
	if err != nil {
		return s.errorf(err, "put %s %s object %s/%q", o.Kind, o.Module, owner, o.ID)
	}
	return nil
}

// Object returns one object, or ocpi.ErrNotFound.
func (s *Store) Object(ctx context.Context, kind ocpi.ObjectKind, module ocpi.ModuleID, owner ocpi.PartyID, id string) (ocpi.Object, error) {
	owner = owner.Key()
	o, err := scanObject(s.cfg.Reader.QueryRow(ctx, `SELECT `+objectColumns+` FROM ocpi_objects
		WHERE kind = ? AND module = ? AND owner_cc = ? AND owner_pid = ? AND id_key = ?`,
		string(kind), string(module), owner.CountryCode, owner.PartyID, objectIDKey(id)))
	if err != nil {
		return ocpi.Object{}, s.errorf(ocpiNotFound(err), "%s %s object %s/%q", kind, module, owner, id)
	}
	return o, nil
}

// Objects returns one page of the objects matching f, ordered by
// LastUpdated, owner and id (ignoring case), and how many match f in total.
func (s *Store) Objects(ctx context.Context, f ocpi.ObjectFilter) ([]ocpi.Object, int, error) {
	if err := checkKind(f.Kind, f.Module); err != nil {
		return nil, 0, s.errorf(err, "list %s %s objects", f.Kind, f.Module)
	}
	where := ` FROM ocpi_objects WHERE kind = ? AND module = ?`
	args := []any{string(f.Kind), string(f.Module)}
	if len(f.Owners) > 0 {
		seen := make(map[ocpi.PartyID]bool, len(f.Owners))
		var terms []string
		for _, p := range f.Owners {
			if !p.Valid() {
				return nil, 0, s.errorf(invalidOwner(p), "list %s %s objects", f.Kind, f.Module)
			}
			p = p.Key()
			if seen[p] {
				continue
			}
			seen[p] = true
			terms = append(terms, `(owner_cc = ? AND owner_pid = ?)`)
			args = append(args, p.CountryCode, p.PartyID)
		}
		where += ` AND (` + strings.Join(terms, ` OR `) + `)`
	}
	if !f.From.IsZero() {
		where += ` AND last_updated >= ?`
		args = append(args, clampNS(f.From))
	}
	if !f.To.IsZero() {
		where += ` AND last_updated < ?`
		args = append(args, clampNS(f.To))
	}
	limit, offset := int64(f.Limit), int64(f.Offset)
	if limit <= 0 {
		limit = math.MaxInt64
	}
	offset = max(offset, 0)
	// Two queries rather than COUNT(*) OVER (), which would read every
	// matching row's data to count them; the count needs only the index.
	var total int64
	if err := s.cfg.Reader.QueryRow(ctx, `SELECT COUNT(*)`+where, args...).Scan(&total); err != nil {
		return nil, 0, s.errorf(err, "count %s %s objects", f.Kind, f.Module)
	}
	page := []ocpi.Object{}
	if offset < total {
		var err error
		page, err = collect(ctx, s.cfg.Reader, func(r sqldb.Rows) (ocpi.Object, error) { return scanObject(r) },
			`SELECT `+objectColumns+where+`
			ORDER BY last_updated, owner_cc, owner_pid, id_key LIMIT ? OFFSET ?`, append(args, limit, offset)...)
		if err != nil {
			return nil, 0, s.errorf(err, "list %s %s objects", f.Kind, f.Module)
		}
	}
	return page, int(total), nil
}

// clampNS is t in Unix nanoseconds, saturated at the int64 range: a bound
// beyond it is as good as open (or closed).
func clampNS(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}
