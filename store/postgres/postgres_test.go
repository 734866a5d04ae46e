package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/internal/testdb"
	"github.com/openev/openev/store/postgres"
	"github.com/openev/openev/store/storetest"
)

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
	dsn := testdb.PostgresDSN(t)
	storetest.Run(t, func(t *testing.T) csms.Store {
		s := open(t, dsn, testdb.NewSchema(t, dsn), postgres.Options{MaxConns: 8})
		t.Cleanup(func() { _ = s.Close() }) // before the schema is dropped
		return s
	})
}

func TestConformanceNoBatching(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	storetest.Run(t, func(t *testing.T) csms.Store {
		s := open(t, dsn, testdb.NewSchema(t, dsn), postgres.Options{MaxConns: 8, NoBatching: true})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// Two nodes starting at once on a new schema apply the migrations once.
func TestConcurrentStart(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	schema := testdb.NewSchema(t, dsn)
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
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if n != len(files) {
		t.Errorf("%d rows in schema_migrations, want %d (one per migration)", n, len(files))
	}
}

// TestCrash kills a writing child process with SIGKILL and checks that
// every acknowledged event survived (the server keeps running: this proves
// that nothing is acknowledged before its commit).
func TestCrash(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	schema := os.Getenv("OPENEV_TEST_POSTGRES_CRASH_SCHEMA")
	if schema == "" {
		schema = testdb.NewSchema(t, dsn)
	}
	storetest.Crash(t, map[string]string{"OPENEV_TEST_POSTGRES_CRASH_SCHEMA": schema}, func(t testing.TB) csms.Store {
		return open(t, dsn, schema, postgres.Options{MaxConns: 4})
	})
}

// A database written before migration 0004 keeps its meter values.
func TestMeterValuesOfADatabaseBefore0004(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	schema := testdb.NewSchema(t, dsn)
	if err := postgres.MigrateFirst(context.Background(), dsn, schema, 3, storetest.MeterValuesBefore0004); err != nil {
		t.Fatal(err)
	}
	s := open(t, dsn, schema, postgres.Options{})
	defer s.Close()
	storetest.CheckMeterValuesAfter0004(t, s)
}
