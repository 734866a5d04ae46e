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
	"embed"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/openev/openev/store/internal/migrate"
	"github.com/openev/openev/store/internal/sqldb"
	"github.com/openev/openev/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune a Store; the zero value is the production setting.
type Options struct {
	// MaxBatch bounds how many concurrent writes share one transaction
	// (0 means 256).
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

// Store is the SQLite csms.Store. Its methods are those of csms.Store.
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
	if opts.NoBatching {
		opts.MaxBatch = 1
	}
	busy := fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds())
	writerDB, err := sql.Open("sqlite", dsn(path, "_txlock=immediate", busy,
		"journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)", "cache_size(-65536)",
		fmt.Sprintf("wal_autocheckpoint(%d)", walCheckpointPages)))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One writer connection, kept open for the life of the store: SQLite
	// allows one writer at a time anyway, and the kept connection keeps its
	// prepared statements.
	writerDB.SetMaxOpenConns(1)
	writerDB.SetMaxIdleConns(1)
	writerDB.SetConnMaxLifetime(0)
	writer := &sqldb.StdDB{DB: writerDB, Prepared: true}
	if err := writerDB.PingContext(ctx); err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := checkPragmas(ctx, writerDB); err != nil {
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
func checkPragmas(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal_mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	var sync int
	if err := db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
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
