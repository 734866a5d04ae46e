// Package sqlite is the csms.Store on SQLite (modernc.org/sqlite, pure Go),
// for a single CSMS node.
//
// The database runs in WAL mode with synchronous=FULL, so a commit returns
// only after the WAL is fsynced. All writes go through one connection,
// owned by a group-commit goroutine that batches concurrent writes into one
// transaction (see store/internal/groupcommit); reads use a pool of
// read-only connections, which WAL lets run beside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"modernc.org/sqlite" // also registers the "sqlite" driver, for the readers

	"github.com/openev/openev/store/internal/migrate"
	"github.com/openev/openev/store/internal/sqldb"
	"github.com/openev/openev/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune a Store; the zero value is the production setting.
type Options struct {
	// MaxBatch bounds how many concurrent writes share one transaction
	// (0 means DefaultMaxBatch).
	MaxBatch int
	// NoBatching commits every write in a transaction of its own: the
	// baseline that group commit is measured against.
	NoBatching bool
	// Readers is the number of read connections (0 means 4).
	Readers int
	// BusyTimeout is how long a connection waits for a lock held by
	// another process on the same file (0 means 10s).
	BusyTimeout time.Duration
}

// DefaultMaxBatch is SQLite's bound on writes per transaction. It is larger
// than PostgreSQL's: the single writer's fsync is its largest fixed cost per
// commit, and with 1 000 charging stations waiting, 1 024 writes share one
// fsync instead of four sharing 256 each (+14 % durable events/s end to end
// in docs/benchmarks.md, "The CSMS end to end").
const DefaultMaxBatch = 1024

// Store is the SQLite store: its methods are those of csms.Store and
// ocpi.Store.
type Store struct {
	*sqlstore.Store
}

// Open opens (creating if needed) the database file at path and applies the
// pending migrations. path must be a file: ":memory:" would give every
// connection a database of its own.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: open %q: need a plain file path", path)
	}
	if opts.Readers <= 0 {
		opts.Readers = 4
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.NoBatching {
		opts.MaxBatch = 1
	}
	busy := fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds())
	writer, err := openWriter(dsn(path, "_txlock=immediate", busy,
		"journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)", "cache_size(-65536)",
		fmt.Sprintf("wal_autocheckpoint(%d)", walCheckpointPages)))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := checkPragmas(ctx, writer); err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ms, err := migrate.Load(migrations, "migrations")
	if err == nil {
		// BEGIN IMMEDIATE takes the write lock, so two processes starting
		// on the same file apply each migration once.
		err = migrate.Up(ctx, writer.Begin, ms)
	}
	if err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}

	readerDB, err := sql.Open("sqlite", dsn(path, busy, "query_only(1)"))
	if err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	readerDB.SetMaxOpenConns(opts.Readers)
	readerDB.SetMaxIdleConns(opts.Readers)
	reader := &sqldb.StdDB{DB: readerDB}

	return &Store{sqlstore.New(sqlstore.Config{
		Name:     "sqlite",
		Reader:   reader,
		Begin:    writer.Begin,
		MaxBatch: opts.MaxBatch,
		TxCache:  txCache,
		Changed:  (&dataVersion{}).changed,
		Close: func() error {
			rerr := reader.Close()
			if err := writer.Close(); err != nil {
				return err
			}
			return rerr
		},
	})}, nil
}

// dsn builds a modernc.org/sqlite data source name: the path, then
// connection parameters and pragmas that every new connection applies.
func dsn(path string, params ...string) string {
	v := make([]string, 0, len(params))
	for _, p := range params {
		if !strings.HasPrefix(p, "_") {
			p = "_pragma=" + url.QueryEscape(p)
		}
		v = append(v, p)
	}
	return path + "?" + strings.Join(v, "&")
}

// checkPragmas verifies that the durability settings took effect: a
// journal_mode that silently stayed "delete" (e.g. on a file system without
// shared memory) would change the guarantees this package documents.
func checkPragmas(ctx context.Context, db sqldb.Querier) error {
	var mode string
	if err := db.QueryRow(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal_mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	var sync int
	if err := db.QueryRow(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return fmt.Errorf("read synchronous: %w", err)
	}
	if sync != 2 { // FULL
		return fmt.Errorf("synchronous is %d, want 2 (FULL)", sync)
	}
	return nil
}

// walCheckpointPages is the WAL size, in pages, at which a commit copies the
// WAL back into the database file (SQLite's default is 1000). The copy runs
// in the committer, between batches, and writes each page once however many
// frames the WAL holds for it: the transactions' rows and index pages that
// every event touches are rewritten ten times less often. The WAL file stays
// at about this size (40 MB at 4 KB pages); recovery after a crash reads it.
const walCheckpointPages = 10000

// txCache is how many transactions' rows the committer keeps: more than the
// transactions running at once on a large site, a few MB.
const txCache = 16384

// dataVersion tells the committer whether another connection (another
// process on the same file) has committed since its last transaction, in
// which case the rows it keeps may be stale. PRAGMA data_version changes
// exactly then, and costs one statement per transaction, not per write.
type dataVersion struct {
	known bool
	last  int64
}

func (d *dataVersion) changed(ctx context.Context, q sqldb.Querier) (bool, error) {
	var v int64
	if err := q.QueryRow(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		return false, fmt.Errorf("read data_version: %w", err)
	}
	changed := d.known && v != d.last
	d.known, d.last = true, v
	return changed, nil
}

// writerConn is the writer's connection, driven directly through the
// driver's interfaces instead of database/sql: the committer is its only
// user (after Open), so database/sql's pool, locks and per-transaction
// statement rebinding are pure cost on the path every write takes. Statements
// with arguments are prepared once and kept for the life of the connection.
type writerConn struct {
	conn  driver.Conn
	stmts map[string]driver.Stmt
}

func openWriter(name string) (*writerConn, error) {
	c, err := (&sqlite.Driver{}).Open(name)
	if err != nil {
		return nil, err
	}
	return &writerConn{conn: c, stmts: map[string]driver.Stmt{}}, nil
}

// Begin starts a write transaction: BEGIN IMMEDIATE, as the DSN says.
func (w *writerConn) Begin(ctx context.Context) (sqldb.Tx, error) {
	tx, err := w.conn.(driver.ConnBeginTx).BeginTx(ctx, driver.TxOptions{})
	if err != nil {
		return nil, err
	}
	return &writerTx{writerConn: w, tx: tx}, nil
}

// Close closes the kept statements and the connection.
func (w *writerConn) Close() error {
	for q, s := range w.stmts {
		_ = s.Close()
		delete(w.stmts, q)
	}
	return w.conn.Close()
}

func (w *writerConn) stmt(ctx context.Context, query string) (driver.Stmt, error) {
	if s, ok := w.stmts[query]; ok {
		return s, nil
	}
	s, err := w.conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	w.stmts[query] = s
	return s, nil
}

// Exec runs a statement; one without arguments (a migration's script of
// several statements, a pragma) runs unprepared.
func (w *writerConn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	var res driver.Result
	var err error
	if len(args) == 0 {
		res, err = w.conn.(driver.ExecerContext).ExecContext(ctx, query, nil)
	} else {
		var s driver.Stmt
		var nv []driver.NamedValue
		if s, err = w.stmt(ctx, query); err == nil {
			if nv, err = namedValues(args); err == nil {
				res, err = s.(driver.StmtExecContext).ExecContext(ctx, nv)
			}
		}
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Query runs a query.
func (w *writerConn) Query(ctx context.Context, query string, args ...any) (sqldb.Rows, error) {
	var rows driver.Rows
	var err error
	if len(args) == 0 {
		rows, err = w.conn.(driver.QueryerContext).QueryContext(ctx, query, nil)
	} else {
		var s driver.Stmt
		var nv []driver.NamedValue
		if s, err = w.stmt(ctx, query); err == nil {
			if nv, err = namedValues(args); err == nil {
				rows, err = s.(driver.StmtQueryContext).QueryContext(ctx, nv)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return &writerRows{rows: rows, vals: make([]driver.Value, len(rows.Columns()))}, nil
}

// QueryRow runs a query and keeps its first row.
func (w *writerConn) QueryRow(ctx context.Context, query string, args ...any) sqldb.Row {
	rows, err := w.Query(ctx, query, args...)
	if err != nil {
		return errRow{err}
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return errRow{err}
		}
		return errRow{sqldb.ErrNoRows}
	}
	r := rows.(*writerRows)
	return &firstRow{vals: slices.Clone(r.vals)}
}

// writerTx is a transaction on the writer connection; statements run on
// the connection, which is in the transaction.
type writerTx struct {
	*writerConn
	tx driver.Tx
}

func (t *writerTx) Commit(context.Context) error   { return t.tx.Commit() }
func (t *writerTx) Rollback(context.Context) error { return t.tx.Rollback() }

// namedValues turns the core's arguments into driver values the way
// database/sql does: ints widened, nil pointers NULL, others dereferenced.
func namedValues(args []any) ([]driver.NamedValue, error) {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i].Ordinal = i + 1
		switch v := a.(type) {
		case nil, int64, float64, bool, []byte, string, time.Time:
			nv[i].Value = v
		case int:
			nv[i].Value = int64(v)
		case *int64:
			if v != nil {
				nv[i].Value = *v
			}
		case *float64:
			if v != nil {
				nv[i].Value = *v
			}
		case *string:
			if v != nil {
				nv[i].Value = *v
			}
		default:
			dv, err := driver.DefaultParameterConverter.ConvertValue(v)
			if err != nil {
				return nil, fmt.Errorf("argument %d: %w", i+1, err)
			}
			nv[i].Value = dv
		}
	}
	return nv, nil
}

type writerRows struct {
	rows driver.Rows
	vals []driver.Value
	err  error
	done bool
}

func (r *writerRows) Next() bool {
	if r.done {
		return false
	}
	if err := r.rows.Next(r.vals); err != nil {
		r.done = true
		if err != io.EOF {
			r.err = err
		}
		return false
	}
	return true
}

func (r *writerRows) Scan(dest ...any) error { return scanValues(r.vals, dest) }
func (r *writerRows) Err() error             { return r.err }
func (r *writerRows) Close() error           { r.done = true; return r.rows.Close() }

type firstRow struct{ vals []driver.Value }

func (r *firstRow) Scan(dest ...any) error { return scanValues(r.vals, dest) }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// scanValues stores a row's values into dest, converting as database/sql's
// Scan does for the types the store uses.
func scanValues(vals []driver.Value, dest []any) error {
	if len(dest) != len(vals) {
		return fmt.Errorf("scan: %d destinations for %d columns", len(dest), len(vals))
	}
	for i := range dest {
		if err := assign(dest[i], vals[i]); err != nil {
			return fmt.Errorf("scan column %d: %w", i, err)
		}
	}
	return nil
}

func assign(dest any, src driver.Value) error {
	switch d := dest.(type) {
	case *int64:
		if v, ok := src.(int64); ok {
			*d = v
			return nil
		}
	case *int:
		if v, ok := src.(int64); ok {
			*d = int(v)
			return nil
		}
	case *float64:
		switch v := src.(type) {
		case float64:
			*d = v
			return nil
		case int64:
			*d = float64(v)
			return nil
		}
	case *string:
		switch v := src.(type) {
		case string:
			*d = v
			return nil
		case []byte:
			*d = string(v)
			return nil
		}
	case *bool:
		switch v := src.(type) {
		case int64:
			*d = v != 0
			return nil
		case bool:
			*d = v
			return nil
		}
	case *[]byte:
		switch v := src.(type) {
		case nil:
			*d = nil
			return nil
		case []byte:
			*d = slices.Clone(v)
			return nil
		case string:
			*d = []byte(v)
			return nil
		}
	case *time.Time:
		if v, ok := src.(time.Time); ok {
			*d = v
			return nil
		}
	case *any:
		if b, ok := src.([]byte); ok {
			src = slices.Clone(b)
		}
		*d = src
		return nil
	case sql.Scanner:
		return d.Scan(src)
	}
	// Pointers to pointers (nullable columns) and named basic types.
	rv := reflect.ValueOf(dest)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("destination %T is not a non-nil pointer", dest)
	}
	ev := rv.Elem()
	if ev.Kind() == reflect.Pointer {
		if src == nil {
			ev.SetZero()
			return nil
		}
		p := reflect.New(ev.Type().Elem())
		if err := assign(p.Interface(), src); err != nil {
			return err
		}
		ev.Set(p)
		return nil
	}
	switch v := src.(type) {
	case int64:
		switch ev.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if !ev.OverflowInt(v) {
				ev.SetInt(v)
				return nil
			}
		}
	case string:
		if ev.Kind() == reflect.String {
			ev.SetString(v)
			return nil
		}
	case float64:
		if ev.Kind() == reflect.Float64 || ev.Kind() == reflect.Float32 {
			ev.SetFloat(v)
			return nil
		}
	}
	return fmt.Errorf("cannot store %T into %T", src, dest)
}
