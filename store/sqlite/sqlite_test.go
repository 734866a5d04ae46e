package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/openev/openev/csms"
	"github.com/openev/openev/store/sqlite"
	"github.com/openev/openev/store/storetest"
)

func openTemp(t *testing.T, opts sqlite.Options) csms.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "openev.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) csms.Store { return openTemp(t, sqlite.Options{}) })
}

func TestConformanceNoBatching(t *testing.T) {
	storetest.Run(t, func(t *testing.T) csms.Store { return openTemp(t, sqlite.Options{NoBatching: true}) })
}
