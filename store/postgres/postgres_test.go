package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/store/postgres"
	"github.com/openev/openev/store/storetest"
)

// testDSN finds the test server: OPENEV_TEST_POSTGRES, else the machine's
// PostgreSQL as user postgres, else as root. Without a server the tests
// skip, except under CI=true, where they fail.
func testDSN(t testing.TB) string {
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
			_ = conn.Close(ctx)
			cancel()
			return dsn
		}
		cancel()
		last = err
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL unreachable (%v): run scripts/services.sh, or set OPENEV_TEST_POSTGRES", last)
	}
	t.Skipf("PostgreSQL unreachable (%v): run scripts/services.sh to test store/postgres", last)
	return ""
}

// newSchema returns a fresh schema name and drops the schema when t ends.
func newSchema(t testing.TB, dsn string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
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

func open(t testing.TB, dsn, schema string, opts postgres.Options) *postgres.Store {
	t.Helper()
	opts.Schema = schema
	s, err := postgres.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	dsn := testDSN(t)
	storetest.Run(t, func(t *testing.T) csms.Store {
		s := open(t, dsn, newSchema(t, dsn), postgres.Options{MaxConns: 8})
		t.Cleanup(func() { _ = s.Close() }) // before the schema is dropped
		return s
	})
}

func TestConformanceNoBatching(t *testing.T) {
	dsn := testDSN(t)
	storetest.Run(t, func(t *testing.T) csms.Store {
		s := open(t, dsn, newSchema(t, dsn), postgres.Options{MaxConns: 8, NoBatching: true})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// Two nodes starting at once on a new schema apply the migrations once.
func TestConcurrentStart(t *testing.T) {
	dsn := testDSN(t)
	schema := newSchema(t, dsn)
	var wg sync.WaitGroup
	stores := make([]*postgres.Store, 4)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema, MaxConns: 2})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM "+schema+".schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d rows in schema_migrations, want 1", n)
	}
}

// TestCrash kills a writing child process with SIGKILL and checks that
// every acknowledged event survived (the server keeps running: this proves
// that nothing is acknowledged before its commit).
func TestCrash(t *testing.T) {
	dsn := testDSN(t)
	schema := os.Getenv("OPENEV_TEST_POSTGRES_CRASH_SCHEMA")
	if schema == "" {
		schema = newSchema(t, dsn)
	}
	storetest.Crash(t, map[string]string{"OPENEV_TEST_POSTGRES_CRASH_SCHEMA": schema}, func(t testing.TB) csms.Store {
		return open(t, dsn, schema, postgres.Options{MaxConns: 4})
	})
}
