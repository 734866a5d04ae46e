package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openev/openev/store/internal/sqldb"
	"github.com/openev/openev/store/internal/sqlstore"
)

// pgxQuerier is what a pool, a connection and a transaction share.
type pgxQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// rebound caches the $n form of the core's "?" queries.
var rebound sync.Map

// rebind rewrites "?" placeholders to $1, $2, ... The core's queries have
// no "?" inside literals, so a plain scan is enough.
func rebind(query string) string {
	if q, ok := rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	q := b.String()
	rebound.Store(query, q)
	return q
}

// adapter runs the core's queries on pgx.
type adapter struct{ q pgxQuerier }

func (a adapter) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if len(args) > 0 {
		query = rebind(query)
	}
	tag, err := a.q.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (a adapter) Query(ctx context.Context, query string, args ...any) (sqldb.Rows, error) {
	rows, err := a.q.Query(ctx, rebind(query), args...)
	if err != nil {
		return nil, err
	}
	return pgxRows{rows}, nil
}

func (a adapter) QueryRow(ctx context.Context, query string, args ...any) sqldb.Row {
	return pgxRow{a.q.QueryRow(ctx, rebind(query), args...)}
}

type pgxRows struct{ pgx.Rows }

func (r pgxRows) Close() error {
	r.Rows.Close()
	return r.Rows.Err()
}

type pgxRow struct{ row pgx.Row }

func (r pgxRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sqldb.ErrNoRows
	}
	return err
}

type txAdapter struct {
	adapter
	tx pgx.Tx
}

// ExecBatch sends the statements in one round trip (a pipelined pgx.Batch)
// instead of one each: the single committer waits for the network once.
func (t txAdapter) ExecBatch(ctx context.Context, stmts []sqlstore.Statement) error {
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(stmts))}
	for _, st := range stmts {
		query := st.Query
		if len(st.Args) > 0 {
			query = rebind(query)
		}
		b.Queue(query, st.Args...)
	}
	br := t.tx.SendBatch(ctx, b)
	var first error
	for range stmts {
		if _, err := br.Exec(); err != nil && first == nil {
			first = err
		}
	}
	if err := br.Close(); err != nil && first == nil {
		first = err
	}
	return first
}

var _ sqlstore.Batcher = txAdapter{}

func (t txAdapter) Commit(ctx context.Context) error   { return t.tx.Commit(ctx) }
func (t txAdapter) Rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }

// beginner returns the begin function of the pool or of one connection.
func beginner(b interface {
	Begin(context.Context) (pgx.Tx, error)
}) func(context.Context) (sqldb.Tx, error) {
	return func(ctx context.Context) (sqldb.Tx, error) {
		tx, err := b.Begin(ctx)
		if err != nil {
			return nil, err
		}
		return txAdapter{adapter{tx}, tx}, nil
	}
}

var (
	_ pgxQuerier = (*pgxpool.Pool)(nil)
	_ pgxQuerier = (*pgxpool.Conn)(nil)
)
