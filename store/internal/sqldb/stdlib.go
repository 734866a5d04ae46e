package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// StdDB adapts a *sql.DB. With Prepared set, statements are prepared once
// and kept (for the single-connection writer, where the same few statements
// run thousands of times a second); otherwise every call goes to the driver.
//
// A statement can only be prepared on the database while no transaction
// holds its one connection, so a statement first seen inside a transaction
// runs unprepared there and is prepared when the transaction has ended.
type StdDB struct {
	DB       *sql.DB
	Prepared bool

	stmts sync.Map // query -> *sql.Stmt
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
	return &stdTx{db: d, tx: tx}, nil
}

func (d *StdDB) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := d.stmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := d.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := d.stmts.LoadOrStore(query, s); loaded {
		_ = s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// Close closes the kept statements and the database.
func (d *StdDB) Close() error {
	d.stmts.Range(func(k, v any) bool {
		_ = v.(*sql.Stmt).Close()
		d.stmts.Delete(k)
		return true
	})
	return d.DB.Close()
}

type stdTx struct {
	db     *StdDB
	tx     *sql.Tx
	missed map[string]bool      // statements to prepare after the transaction
	bound  map[string]*sql.Stmt // kept statements bound to this transaction
}

// txStmt returns the kept statement bound to this transaction, or nil to
// run the query unprepared.
func (t *stdTx) txStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if !t.db.Prepared {
		return nil, nil
	}
	if s, ok := t.bound[query]; ok {
		return s, nil
	}
	s, ok := t.db.stmts.Load(query)
	if !ok {
		if t.missed == nil {
			t.missed = map[string]bool{}
		}
		t.missed[query] = true
		return nil, nil
	}
	// On the connection the statement was prepared on, this reuses it; a
	// batch runs the same few statements hundreds of times, so bind once.
	bs := t.tx.StmtContext(ctx, s.(*sql.Stmt))
	if t.bound == nil {
		t.bound = map[string]*sql.Stmt{}
	}
	t.bound[query] = bs
	return bs, nil
}

// prepareMissed prepares, now that the connection is free, the statements
// the transaction ran unprepared. A failure only means they stay unprepared.
func (t *stdTx) prepareMissed(ctx context.Context) {
	for q := range t.missed {
		_, _ = t.db.stmt(ctx, q)
	}
	t.missed = nil
}

func (t *stdTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	s, err := t.txStmt(ctx, query)
	if err != nil {
		return 0, err
	}
	if s == nil {
		return stdExec(t.tx.ExecContext(ctx, query, args...))
	}
	return stdExec(s.ExecContext(ctx, args...))
}

func (t *stdTx) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	s, err := t.txStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	var rows *sql.Rows
	if s == nil {
		rows, err = t.tx.QueryContext(ctx, query, args...)
	} else {
		rows, err = s.QueryContext(ctx, args...)
	}
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (t *stdTx) QueryRow(ctx context.Context, query string, args ...any) Row {
	s, err := t.txStmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	if s == nil {
		return stdRow{t.tx.QueryRowContext(ctx, query, args...)}
	}
	return stdRow{s.QueryRowContext(ctx, args...)}
}

func (t *stdTx) Commit(ctx context.Context) error {
	err := t.tx.Commit()
	t.prepareMissed(ctx)
	return err
}

func (t *stdTx) Rollback(ctx context.Context) error {
	err := t.tx.Rollback()
	t.prepareMissed(ctx)
	return err
}

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

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
