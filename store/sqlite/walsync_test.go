package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openev/openev/csms"
)

// With batching, the writer commits with synchronous=NORMAL and every
// acknowledged write has had the WAL flushed after its commit; without,
// it commits with FULL and flushes in the commit itself.
func TestBatchingFlushesTheWALBeforeAcknowledging(t *testing.T) {
	ctx := context.Background()
	for _, noBatching := range []bool{false, true} {
		s, err := Open(ctx, filepath.Join(t.TempDir(), "openev.db"), Options{NoBatching: noBatching})
		if err != nil {
			t.Fatal(err)
		}
		var before int64
		if s.wal != nil {
			before = s.wal.syncs.Load()
		}
		for i := range 3 {
			st := csms.Station{ID: "CS1", Vendor: "V", Model: "M", Protocol: "ocpp2.0.1", Registration: "Accepted",
				CreatedAt: time.Now(), UpdatedAt: time.Now(), SecurityProfile: i % 2}
			if err := s.SaveStation(ctx, st); err != nil {
				t.Fatal(err)
			}
			if s.wal != nil && s.wal.syncs.Load() < before+int64(i)+1 {
				t.Errorf("write %d acknowledged after %d WAL flushes, want at least %d", i, s.wal.syncs.Load()-before, i+1)
			}
		}
		if noBatching && s.wal != nil {
			t.Error("without batching the commit itself must flush (synchronous=FULL), not a WAL syncer")
		}
		if !noBatching && s.wal == nil {
			t.Error("with batching there is no WAL syncer")
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// The syncer follows the WAL file if the path comes to name another one.
func TestWALSyncReopensAReplacedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db-wal")
	if err := os.WriteFile(path, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := &walSync{path: path}
	defer w.close()
	if err := w.sync(); err != nil {
		t.Fatal(err)
	}
	first := w.f
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := w.sync(); err == nil {
		t.Error("sync of a missing WAL file succeeded")
	}
	if err := os.WriteFile(path, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.sync(); err != nil {
		t.Fatal(err)
	}
	if w.f == first {
		t.Error("kept flushing the replaced file")
	}
	if got := w.syncs.Load(); got != 2 {
		t.Errorf("%d flushes counted, want 2", got)
	}
}
