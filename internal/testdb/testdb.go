// Package testdb opens real databases for tests: a SQLite file in the test's
// temporary directory, and a fresh schema on the machine's PostgreSQL that
// is dropped when the test ends. Tests that must pass on both backends loop
// over Backends.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/store/postgres"
	"github.com/openev/openev/store/sqlite"
)

// Backend names a store implementation and opens a fresh, empty one.
type Backend struct {
	Name string
	Open func(t testing.TB) csms.Store
}

// Backends are SQLite and PostgreSQL, in that order.
var Backends = []Backend{{"sqlite", SQLite}, {"postgres", Postgres}}

// SQLite opens a store in a new file under t.TempDir, closed when t ends.
func SQLite(t testing.TB) csms.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "openev.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Postgres opens a store in a fresh schema of the test PostgreSQL, dropped
// (and the store closed) when t ends.
func Postgres(t testing.TB) csms.Store {
	t.Helper()
	dsn := PostgresDSN(t)
	schema := NewSchema(t, dsn)
	st, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// PostgresDSN finds the test server: OPENEV_TEST_POSTGRES, else the
// machine's PostgreSQL as user postgres, else as root. Without a server the
// test is skipped, except under CI=true, where it fails.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	candidates := []string{os.Getenv("OPENEV_TEST_POSTGRES")}
	if candidates[0] == "" {
		candidates = []string{
			"postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
			"postgres://root@127.0.0.1:5432/test?sslmode=disable",
		}
	}
	var last error
	for _, dsn := range candidates {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			conn.Close(ctx)
			cancel()
			return dsn
		}
		cancel()
		last = err
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL unreachable (%v): run scripts/services.sh, or set OPENEV_TEST_POSTGRES", last)
	}
	t.Skipf("PostgreSQL unreachable (%v): run scripts/services.sh", last)
	return ""
}

// NewSchema returns a fresh schema name and drops the schema when t ends.
func NewSchema(t testing.TB, dsn string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "openev_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}
