package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/openev/openev/ocpi"
	"github.com/openev/openev/ocpi/ocpitest"
	"github.com/openev/openev/store"
	"github.com/openev/openev/store/sqlite"
)

func openOCPI(t *testing.T, opts sqlite.Options) ocpi.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "openev.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestOCPIStoreConformance(t *testing.T) {
	ocpitest.TestStore(t, func(t *testing.T) ocpi.Store { return openOCPI(t, sqlite.Options{}) },
		ocpitest.Options{Invalid: store.ErrInvalid})
}

func TestOCPIStoreConformanceNoBatching(t *testing.T) {
	ocpitest.TestStore(t, func(t *testing.T) ocpi.Store { return openOCPI(t, sqlite.Options{NoBatching: true}) },
		ocpitest.Options{Invalid: store.ErrInvalid})
}
