package sqlite_test

import (
	"context"
	"os"
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

// TestCrash kills a writing child process with SIGKILL and checks that
// every acknowledged event survived.
func TestCrash(t *testing.T) {
	path := os.Getenv("OPENEV_TEST_SQLITE_CRASH_DB")
	if path == "" {
		path = filepath.Join(t.TempDir(), "crash.db")
	}
	storetest.Crash(t, map[string]string{"OPENEV_TEST_SQLITE_CRASH_DB": path}, func(t testing.TB) csms.Store {
		s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
