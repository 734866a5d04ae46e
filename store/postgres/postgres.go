// Package postgres is the csms.Store on PostgreSQL (pgx with pgxpool), for
// one or several CSMS nodes sharing a database.
//
// Writes go through a group-commit goroutine per node that batches
// concurrent writes into one transaction (see store/internal/groupcommit);
// every connection runs with synchronous_commit=on, so a commit returns only
// after the WAL is flushed to disk. Rows a write reads before updating are
// locked (SELECT ... FOR UPDATE), so writes of several nodes to the same
// transaction are serialized by the database.
package postgres

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openev/openev/store/internal/migrate"
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
	// MaxConns is the pool size (0 means pgxpool's default, or the DSN's
	// pool_max_conns).
	MaxConns int32
	// Schema, if set, is created if missing and made the search_path of
	// every connection, so that several stores (or test runs) can share one
	// database.
	Schema string
}

// Store is the PostgreSQL store: its methods are those of csms.Store and
// ocpi.Store.
type Store struct {
	*sqlstore.Store
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string) and applies the pending migrations. Several nodes may start at
// once: an advisory lock makes them apply each migration once.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors redact the password.
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	// Durability is the promise: whatever the server's default, a commit
	// waits for the WAL flush.
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	}
	if opts.NoBatching {
		opts.MaxBatch = 1
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect %s: %w", where, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect %s: %w", where, err)
	}
	if err := migrateUp(ctx, pool, opts.Schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate %s: %w", where, err)
	}
	return &Store{sqlstore.New(sqlstore.Config{
		Name:       "postgres",
		Reader:     adapter{pool},
		Begin:      beginner(pool),
		MaxBatch:   opts.MaxBatch,
		LockSuffix: " FOR UPDATE",
		Close:      func() error { pool.Close(); return nil },
	})}, nil
}

// migrateUp creates the schema, if one is given, and applies the
// migrations, holding a session advisory lock keyed by the schema on one
// connection: a second node starting at the same time waits, then finds
// them applied.
func migrateUp(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	ms, err := migrate.Load(migrations, "migrations")
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	create := schema != ""
	if !create {
		if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return fmt.Errorf("read current schema: %w", err)
		}
	}
	h := fnv.New64a()
	h.Write([]byte("openev migrate " + schema))
	key := int64(h.Sum64())
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	defer func() {
		// The lock is the session's: release it before the connection goes
		// back to the pool. context.WithoutCancel: unlock even if ctx ended.
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key)
	}()
	// Under the lock, as CREATE SCHEMA IF NOT EXISTS itself races.
	if create {
		if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return fmt.Errorf("create schema %s: %w", schema, err)
		}
	}
	return migrate.Up(ctx, beginner(conn), ms)
}
