// Package sqlstore is the csms.Store that store/sqlite and store/postgres
// share: every rule of the contract, written once against the small sqldb
// interface. A backend supplies a reader (its connection pool) and a
// group-commit writer; all writes go through the writer.
package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/store/internal/groupcommit"
	"github.com/openev/openev/store/internal/sqldb"
)

// Config is what a backend provides.
type Config struct {
	// Name prefixes every error, e.g. "sqlite".
	Name string
	// Reader runs the read methods; it sees only committed data.
	Reader sqldb.Querier
	// Begin opens a write transaction; every write method runs in one,
	// group-committed (see store/internal/groupcommit).
	Begin func(context.Context) (sqldb.Tx, error)
	// MaxBatch is the most writes per transaction (0 means
	// groupcommit.DefaultMaxBatch, 1 turns batching off).
	MaxBatch int
	// TxCache is how many transactions' rows the committer keeps after
	// writing them, so that their next event skips the SELECT (0 means
	// none). Only correct if no other process changes a kept row without
	// Changed noticing: a SQLite file, not a PostgreSQL database that
	// several nodes share.
	TxCache int
	// Changed runs first in every write transaction and tells whether
	// another connection has committed since the last call; the kept rows
	// are then dropped. Required when TxCache > 0.
	Changed func(ctx context.Context, q sqldb.Querier) (bool, error)
	// LockSuffix is appended to the SELECT that reads a transaction before
	// updating it: " FOR UPDATE" on PostgreSQL, where several nodes may
	// write at once; empty on SQLite, whose writes are serialized anyway.
	LockSuffix string
	// Close releases the backend after the writer has drained.
	Close func() error
	// Now is the clock for CreatedAt/UpdatedAt; nil means time.Now.
	Now func() time.Time
}

// Store implements csms.Store.
type Store struct {
	cfg       Config
	writer    *groupcommit.Committer
	txs       *txCache // nil: no cache; used on the committer goroutine only
	closeOnce sync.Once
	closeErr  error
}

var _ csms.Store = (*Store)(nil)

// New returns a Store over cfg and starts its committer.
func New(cfg Config) *Store {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Store{cfg: cfg}
	var hooks groupcommit.Hooks
	if cfg.TxCache > 0 && cfg.Changed != nil {
		s.txs = newTxCache(cfg.TxCache)
		hooks = groupcommit.Hooks{
			Begin: func(ctx context.Context, q sqldb.Querier) error {
				changed, err := cfg.Changed(ctx, q)
				if err != nil {
					return err
				}
				if changed {
					s.txs.reset()
				}
				return nil
			},
			Discard: s.txs.discard,
			End:     s.txs.end,
		}
	}
	s.writer = groupcommit.NewWithHooks(cfg.Begin, cfg.MaxBatch, hooks)
	return s
}

// QueuedWrites returns how many writes wait for the group committer.
func (s *Store) QueuedWrites() int { return s.writer.Queued() }

// Close waits for pending writes and releases the database.
// Closing twice is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.writer.Close()
		if s.cfg.Close != nil {
			if err := s.cfg.Close(); err != nil {
				s.closeErr = fmt.Errorf("%s: close: %w", s.cfg.Name, err)
			}
		}
	})
	return s.closeErr
}

// write runs fn in the group-committed write path.
func (s *Store) write(ctx context.Context, fn groupcommit.WriteFunc) error {
	return s.writer.Do(ctx, fn)
}

// errorf prefixes an error with the backend's name and what failed.
func (s *Store) errorf(err error, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %w", s.cfg.Name, fmt.Sprintf(format, args...), err)
}

// invalid is the error for bad input.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", csms.ErrInvalid, fmt.Sprintf(format, args...))
}

// notFound maps the driver's "no rows" to csms.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sqldb.ErrNoRows) {
		return csms.ErrNotFound
	}
	return err
}

// Times are stored as Unix nanoseconds; the zero time as NULL where a
// column is nullable.

func ns(t time.Time) int64 { return t.UnixNano() }

func fromNS(v int64) time.Time { return time.Unix(0, v).UTC() }

func nullNS(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixNano()
	return &v
}

func fromNullNS(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return fromNS(*v)
}

// validTime rejects times that Unix nanoseconds cannot hold (years before
// 1678 or after 2262), which would otherwise be stored wrapped around.
func validTime(t time.Time) bool {
	return t.Year() >= 1678 && t.Year() <= 2261
}

// rawBytes stores an absent JSON document as NULL.
func rawBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return []byte(b)
}

// Statement is one statement of a Batcher's batch.
type Statement struct {
	Query string // with "?" placeholders
	Args  []any
}

// Batcher is implemented by a write transaction that can send several
// statements in one round trip (pgx's pipelined batch); the store uses it
// for the statements of a write whose results it does not need.
type Batcher interface {
	// ExecBatch runs the statements in order and returns the first error.
	ExecBatch(ctx context.Context, stmts []Statement) error
}

// execAll runs statements whose results are not needed: in one round trip
// if q is a Batcher, else one by one.
func execAll(ctx context.Context, q sqldb.Querier, stmts []Statement) error {
	if b, ok := q.(Batcher); ok && len(stmts) > 1 {
		return b.ExecBatch(ctx, stmts)
	}
	for _, st := range stmts {
		if _, err := q.Exec(ctx, st.Query, st.Args...); err != nil {
			return err
		}
	}
	return nil
}

// collect runs a query and scans every row with scan.
func collect[T any](ctx context.Context, q sqldb.Querier, scan func(sqldb.Rows) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
