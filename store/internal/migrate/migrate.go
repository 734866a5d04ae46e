// Package migrate applies a backend's versioned SQL migrations at start-up.
//
// Migrations are files named NNNN_description.sql in an fs.FS (embedded
// with go:embed), applied in version order, each in its own transaction
// together with its row in schema_migrations, so a migration is either
// applied and recorded or not at all. Concurrent starts are the caller's
// concern: SQLite's BEGIN IMMEDIATE serializes them, PostgreSQL callers hold
// an advisory lock around Up.
package migrate

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/openev/openev/store/internal/sqldb"
)

// Migration is one versioned SQL script.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load reads the *.sql files of dir in fsys, checking that versions are
// unique and positive.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s have the same version", prev, e.Name())
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// createTable is valid SQL for both backends.
const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    BIGINT PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`

// Up applies the migrations not yet recorded, each in a transaction from
// begin. It refuses a database whose schema is newer than ms knows.
func Up(ctx context.Context, begin func(context.Context) (sqldb.Tx, error), ms []Migration) error {
	for _, m := range ms {
		if err := apply(ctx, begin, m); err != nil {
			return err
		}
	}
	if len(ms) == 0 {
		return nil
	}
	known := ms[len(ms)-1].Version
	return inTx(ctx, begin, func(tx sqldb.Tx) error {
		var newest int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if newest > known {
			return fmt.Errorf("database schema version %d is newer than this program's %d", newest, known)
		}
		return nil
	})
}

func apply(ctx context.Context, begin func(context.Context) (sqldb.Tx, error), m Migration) error {
	return inTx(ctx, begin, func(tx sqldb.Tx) error {
		if _, err := tx.Exec(ctx, createTable); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("record migration %s: %w", m.Name, err)
		}
		return nil
	})
}

func inTx(ctx context.Context, begin func(context.Context) (sqldb.Tx, error), fn func(sqldb.Tx) error) error {
	tx, err := begin(ctx)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit migration: %w", err)
	}
	return nil
}
