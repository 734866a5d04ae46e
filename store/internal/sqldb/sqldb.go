// Package sqldb is the small database interface the shared store core is
// written against, so that one implementation of the csms rules runs on
// database/sql (SQLite) and on pgx (PostgreSQL). Queries use "?"
// placeholders; the PostgreSQL adapter rewrites them to $1, $2, ...
package sqldb

import (
	"context"
	"errors"
)

// ErrNoRows is what Row.Scan returns when the query selected nothing,
// whatever the driver's own sentinel is.
var ErrNoRows = errors.New("no rows in result set")

// Querier runs statements. Exec returns the number of rows affected.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Rows iterates a query's result, like *sql.Rows.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Row is a single-row result; Scan returns ErrNoRows when there is none.
type Row interface {
	Scan(dest ...any) error
}

// Tx is a write transaction.
type Tx interface {
	Querier
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}
