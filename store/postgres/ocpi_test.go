package postgres_test

import (
	"testing"

	"github.com/openev/openev/internal/testdb"
	"github.com/openev/openev/ocpi"
	"github.com/openev/openev/ocpi/ocpitest"
	"github.com/openev/openev/store"
	"github.com/openev/openev/store/postgres"
)

func TestOCPIStoreConformance(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	ocpitest.TestStore(t, func(t *testing.T) ocpi.Store {
		s := open(t, dsn, testdb.NewSchema(t, dsn), postgres.Options{MaxConns: 8})
		t.Cleanup(func() { _ = s.Close() }) // before the schema is dropped
		return s
	}, ocpitest.Options{Invalid: store.ErrInvalid})
}

func TestOCPIStoreConformanceNoBatching(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	ocpitest.TestStore(t, func(t *testing.T) ocpi.Store {
		s := open(t, dsn, testdb.NewSchema(t, dsn), postgres.Options{MaxConns: 8, NoBatching: true})
		t.Cleanup(func() { _ = s.Close() })
		return s
	}, ocpitest.Options{Invalid: store.ErrInvalid})
}
