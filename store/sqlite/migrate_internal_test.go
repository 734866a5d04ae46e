package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/openev/openev/store/internal/migrate"
	"github.com/openev/openev/store/storetest"
)

// A database written before migration 0004 keeps its meter values.
func TestMeterValuesOfADatabaseBefore0004(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	w, err := openWriter(dsn(path, "_txlock=immediate", "journal_mode(WAL)", "foreign_keys(1)"))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrate.Load(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate.Up(ctx, w.Begin, ms[:3]); err != nil {
		t.Fatal(err)
	}
	for _, q := range storetest.MeterValuesBefore0004 {
		if _, err := w.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.CheckMeterValuesAfter0004(t, s)
}
