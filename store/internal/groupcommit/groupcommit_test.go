package groupcommit

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openev/openev/store"
	"github.com/openev/openev/store/internal/sqldb"
)

// fakeTx logs the statements a batch runs.
type fakeTx struct {
	log    *[]string
	mu     *sync.Mutex
	commit error
}

func (f *fakeTx) add(s string) {
	f.mu.Lock()
	*f.log = append(*f.log, s)
	f.mu.Unlock()
}

func (f *fakeTx) Exec(_ context.Context, q string, _ ...any) (int64, error) {
	f.add(q)
	return 0, nil
}
func (f *fakeTx) Query(context.Context, string, ...any) (sqldb.Rows, error) { return nil, nil }
func (f *fakeTx) QueryRow(context.Context, string, ...any) sqldb.Row        { return nil }
func (f *fakeTx) Commit(context.Context) error                              { f.add("COMMIT"); return f.commit }
func (f *fakeTx) Rollback(context.Context) error                            { f.add("ROLLBACK"); return nil }

// write returns a WriteFunc that logs name and returns err.
func write(name string, err error) WriteFunc {
	return func(_ context.Context, q sqldb.Querier) error {
		_, _ = q.Exec(context.Background(), name)
		return err
	}
}

// queue starts Do calls one after the other, each queued before the next
// starts, and returns their errors once all have returned.
func queue(t *testing.T, c *Committer, fns ...WriteFunc) func() []error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		before := len(c.reqs)
		go func() {
			defer wg.Done()
			errs[i] = c.Do(context.Background(), fn)
		}()
		deadline := time.Now().Add(5 * time.Second)
		for len(c.reqs) == before {
			if time.Now().After(deadline) {
				t.Fatal("write not queued")
			}
			time.Sleep(time.Millisecond)
		}
	}
	return func() []error { wg.Wait(); return errs }
}

func TestBatchIsolatesFailingWrite(t *testing.T) {
	var log []string
	var mu sync.Mutex
	gate := make(chan struct{})
	holding := make(chan struct{})
	var once sync.Once
	c := New(func(context.Context) (sqldb.Tx, error) {
		once.Do(func() {
			close(holding)
			<-gate // hold the first batch so that the next writes queue up
		})
		tx := &fakeTx{log: &log, mu: &mu}
		tx.add("BEGIN")
		return tx, nil
	}, 0)
	defer c.Close()

	blocker := make(chan error, 1)
	go func() { blocker <- c.Do(context.Background(), write("A", nil)) }()
	<-holding // the committer holds A
	errBad := errors.New("bad write")
	wait := queue(t, c, write("B", nil), write("C", errBad), write("D", nil))
	close(gate)
	if err := <-blocker; err != nil {
		t.Fatalf("A: %v", err)
	}
	errs := wait()
	if errs[0] != nil || !errors.Is(errs[1], errBad) || errs[2] != nil {
		t.Fatalf("errors = %v, want [nil bad nil]", errs)
	}
	got := strings.Join(log, "; ")
	// The optimistic pass fails at C and is rolled back; the second pass
	// isolates C in its savepoint.
	want := "BEGIN; A; COMMIT; BEGIN; B; C; ROLLBACK; BEGIN; SAVEPOINT w; B; RELEASE SAVEPOINT w; SAVEPOINT w; C; " +
		"ROLLBACK TO SAVEPOINT w; RELEASE SAVEPOINT w; SAVEPOINT w; D; RELEASE SAVEPOINT w; COMMIT"
	if got != want {
		t.Errorf("statements:\n got %s\nwant %s", got, want)
	}
}

func TestBatchWithoutFailureHasNoSavepoints(t *testing.T) {
	var log []string
	var mu sync.Mutex
	gate := make(chan struct{})
	holding := make(chan struct{})
	var once sync.Once
	c := New(func(context.Context) (sqldb.Tx, error) {
		once.Do(func() { close(holding); <-gate })
		tx := &fakeTx{log: &log, mu: &mu}
		tx.add("BEGIN")
		return tx, nil
	}, 0)
	defer c.Close()
	blocker := make(chan error, 1)
	go func() { blocker <- c.Do(context.Background(), write("A", nil)) }()
	<-holding
	wait := queue(t, c, write("B", nil), write("C", nil))
	close(gate)
	if err := <-blocker; err != nil {
		t.Fatal(err)
	}
	for i, err := range wait() {
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if got, want := strings.Join(log, "; "), "BEGIN; A; COMMIT; BEGIN; B; C; COMMIT"; got != want {
		t.Errorf("statements:\n got %s\nwant %s", got, want)
	}
}

func TestCommitErrorReachesEveryWriter(t *testing.T) {
	var log []string
	var mu sync.Mutex
	errCommit := errors.New("disk full")
	c := New(func(context.Context) (sqldb.Tx, error) {
		return &fakeTx{log: &log, mu: &mu, commit: errCommit}, nil
	}, 0)
	defer c.Close()
	if err := c.Do(context.Background(), write("A", nil)); !errors.Is(err, errCommit) {
		t.Errorf("got %v, want the commit error", err)
	}
}

func TestNoBatchingIsOneTransactionPerWrite(t *testing.T) {
	var log []string
	var mu sync.Mutex
	c := New(func(context.Context) (sqldb.Tx, error) {
		tx := &fakeTx{log: &log, mu: &mu}
		tx.add("BEGIN")
		return tx, nil
	}, 1)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() { defer wg.Done(); _ = c.Do(context.Background(), write("W", nil)) }()
	}
	wg.Wait()
	c.Close()
	if got := strings.Count(strings.Join(log, ";"), "COMMIT"); got != 20 {
		t.Errorf("%d commits for 20 writes, want 20", got)
	}
	if err := c.Do(context.Background(), write("late", nil)); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Do after Close: %v", err)
	}
}

func TestPanickingWriteFailsAlone(t *testing.T) {
	var log []string
	var mu sync.Mutex
	c := New(func(context.Context) (sqldb.Tx, error) { return &fakeTx{log: &log, mu: &mu}, nil }, 0)
	defer c.Close()
	err := c.Do(context.Background(), func(context.Context, sqldb.Querier) error { panic("boom") })
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("got %v", err)
	}
	if err := c.Do(context.Background(), write("after", nil)); err != nil {
		t.Errorf("write after a panic: %v", err)
	}
}

// loggingHooks records the hooks' calls in the statement log.
func loggingHooks(f *fakeTx, beginErr error) Hooks {
	return Hooks{
		Begin: func(context.Context, sqldb.Querier) error {
			f.add("hook Begin")
			return beginErr
		},
		Discard: func() { f.add("hook Discard") },
		End: func(o Outcome) {
			f.add([]string{"hook Committed", "hook RolledBack", "hook Unknown"}[o])
		},
	}
}

func TestHooksFollowEveryTransactionsFate(t *testing.T) {
	var log []string
	var mu sync.Mutex
	logger := &fakeTx{log: &log, mu: &mu}
	gate := make(chan struct{})
	holding := make(chan struct{})
	var once sync.Once
	c := NewWithHooks(func(context.Context) (sqldb.Tx, error) {
		once.Do(func() { close(holding); <-gate })
		tx := &fakeTx{log: &log, mu: &mu}
		tx.add("BEGIN")
		return tx, nil
	}, 0, loggingHooks(logger, nil))
	defer c.Close()
	blocker := make(chan error, 1)
	go func() { blocker <- c.Do(context.Background(), write("A", nil)) }()
	<-holding
	errBad := errors.New("bad write")
	wait := queue(t, c, write("B", nil), write("C", errBad))
	close(gate)
	if err := <-blocker; err != nil {
		t.Fatal(err)
	}
	wait()
	// The failed optimistic pass is reported rolled back; C's savepoint
	// rollback is reported before the second pass commits.
	want := "BEGIN; hook Begin; A; COMMIT; hook Committed; " +
		"BEGIN; hook Begin; B; C; ROLLBACK; hook RolledBack; " +
		"BEGIN; hook Begin; SAVEPOINT w; B; RELEASE SAVEPOINT w; SAVEPOINT w; C; ROLLBACK TO SAVEPOINT w; hook Discard; " +
		"RELEASE SAVEPOINT w; COMMIT; hook Committed"
	if got := strings.Join(log, "; "); got != want {
		t.Errorf("statements:\n got %s\nwant %s", got, want)
	}
}

func TestFailedCommitIsReportedUnknown(t *testing.T) {
	var log []string
	var mu sync.Mutex
	logger := &fakeTx{log: &log, mu: &mu}
	errCommit := errors.New("disk full")
	c := NewWithHooks(func(context.Context) (sqldb.Tx, error) {
		return &fakeTx{log: &log, mu: &mu, commit: errCommit}, nil
	}, 0, loggingHooks(logger, nil))
	defer c.Close()
	if err := c.Do(context.Background(), write("A", nil)); !errors.Is(err, errCommit) {
		t.Fatalf("got %v, want the commit error", err)
	}
	if got, want := strings.Join(log, "; "), "hook Begin; A; COMMIT; ROLLBACK; hook Unknown"; got != want {
		t.Errorf("statements:\n got %s\nwant %s", got, want)
	}
}

func TestFailingBeginHookFailsTheBatchUnwritten(t *testing.T) {
	var log []string
	var mu sync.Mutex
	logger := &fakeTx{log: &log, mu: &mu}
	errHook := errors.New("cannot read data_version")
	c := NewWithHooks(func(context.Context) (sqldb.Tx, error) {
		return &fakeTx{log: &log, mu: &mu}, nil
	}, 0, loggingHooks(logger, errHook))
	defer c.Close()
	if err := c.Do(context.Background(), write("A", nil)); !errors.Is(err, errHook) {
		t.Fatalf("got %v, want the hook's error", err)
	}
	if got, want := strings.Join(log, "; "), "hook Begin; ROLLBACK; hook RolledBack"; got != want {
		t.Errorf("statements:\n got %s\nwant %s", got, want)
	}
}
