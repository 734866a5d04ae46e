package sqldb

import (
	"context"
	"database/sql"
	"errors"
)

// StdDB adapts a *sql.DB: every call goes to database/sql and its driver.
// (SQLite's hot writer path talks to its driver directly, with statements
// kept prepared; see store/sqlite.)
type StdDB struct {
	DB *sql.DB
}

// Exec runs a statement outside a transaction.
func (d *StdDB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return stdExec(d.DB.ExecContext(ctx, query, args...))
}

// Query runs a query outside a transaction.
func (d *StdDB) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	rows, err := d.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// QueryRow runs a single-row query outside a transaction.
func (d *StdDB) QueryRow(ctx context.Context, query string, args ...any) Row {
	return stdRow{d.DB.QueryRowContext(ctx, query, args...)}
}

// Begin starts a transaction (BEGIN IMMEDIATE when the DSN says _txlock=immediate).
func (d *StdDB) Begin(ctx context.Context) (Tx, error) {
	tx, err := d.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &stdTx{tx: tx}, nil
}

// Close closes the database.
func (d *StdDB) Close() error { return d.DB.Close() }

type stdTx struct {
	tx *sql.Tx
}

func (t *stdTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return stdExec(t.tx.ExecContext(ctx, query, args...))
}

func (t *stdTx) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (t *stdTx) QueryRow(ctx context.Context, query string, args ...any) Row {
	return stdRow{t.tx.QueryRowContext(ctx, query, args...)}
}

func (t *stdTx) Commit(context.Context) error { return t.tx.Commit() }

func (t *stdTx) Rollback(context.Context) error { return t.tx.Rollback() }

func stdExec(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

type stdRow struct{ row *sql.Row }

func (r stdRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNoRows
	}
	return err
}
