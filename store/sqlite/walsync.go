package sqlite

import (
	"fmt"
	"os"
	"sync/atomic"
)

// walSync makes the writer's committed transactions durable when it commits
// with synchronous=NORMAL: an fdatasync of the WAL file, which is all that
// synchronous=FULL adds to a commit in WAL mode. The group committer calls
// it from its sync goroutine, beside the next batch, and acknowledges
// the batches it covers only after it returns (groupcommit.Hooks.Sync).
//
// Under NORMAL, SQLite itself still syncs the WAL before a checkpoint
// copies it into the database file, the database file after the copy, and
// the WAL header when the WAL starts over. The WAL file stays the same
// while the writer connection is open (SQLite deletes it only when the last
// connection closes); walSync still reopens it if the path names another
// file, rather than flush a file nobody writes.
type walSync struct {
	path  string
	f     *os.File
	fi    os.FileInfo
	syncs atomic.Int64 // flushes done, for tests
}

func (w *walSync) sync() error {
	fi, err := os.Stat(w.path)
	if err != nil {
		return fmt.Errorf("WAL file: %w", err)
	}
	if w.f == nil || !os.SameFile(fi, w.fi) {
		if w.f != nil {
			_ = w.f.Close()
		}
		f, err := os.Open(w.path) // fdatasync needs no write access
		if err != nil {
			return fmt.Errorf("WAL file: %w", err)
		}
		w.f, w.fi = f, fi
	}
	if err := datasync(w.f); err != nil {
		return fmt.Errorf("fdatasync %s: %w", w.path, err)
	}
	w.syncs.Add(1)
	return nil
}

// close releases the WAL file; a nil walSync (no batching) has none.
func (w *walSync) close() error {
	if w == nil || w.f == nil {
		return nil
	}
	return w.f.Close()
}
