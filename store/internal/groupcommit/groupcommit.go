// Package groupcommit batches concurrent writes into one database
// transaction. A single committer goroutine takes whatever writes are queued
// (up to a bound), runs them in one transaction and commits once, so N
// concurrent writers pay for one commit (one fsync) instead of N. Each write
// still gets its own error: if one fails, the batch runs again with a
// SAVEPOINT around each write, so that only the failing one is rolled back.
// Hooks tell the store how each transaction ended, for state (a cache) that
// must follow the database's.
//
// Durability: a write's call returns nil only after the COMMIT of the
// transaction that contains it has returned, so everything acknowledged is
// as durable as the database makes a commit.
package groupcommit

import (
	"context"
	"fmt"
	"sync"

	"github.com/openev/openev/store"
	"github.com/openev/openev/store/internal/sqldb"
)

// DefaultMaxBatch bounds how many writes share one transaction when the
// caller does not say: large enough to amortise the fsync, small enough
// that one batch's latency stays in the milliseconds.
const DefaultMaxBatch = 256

// WriteFunc is one write. It runs on the committer goroutine inside the
// batch's transaction and must not keep q after it returns. ctx is the
// committer's context, not the caller's: cancelling one caller must not
// break the statement (and the transaction) that the whole batch shares.
type WriteFunc func(ctx context.Context, q sqldb.Querier) error

// Outcome is how a transaction of the committer ended.
type Outcome int

// The outcomes Hooks.End reports.
const (
	// Committed: COMMIT returned nil; the writes that returned nil are in
	// the database.
	Committed Outcome = iota
	// RolledBack: the transaction was rolled back; none of its writes is in
	// the database.
	RolledBack
	// Unknown: COMMIT (or a rollback) failed; whether the writes are in the
	// database is not known.
	Unknown
)

// Hooks let a store keep state that must follow the database's, such as a
// cache of rows its writes produced: what a write staged becomes true when
// its transaction commits and must be forgotten when it does not. Both run
// on the committer goroutine, the only one that runs writes, so state they
// share with the writes needs no lock.
type Hooks struct {
	// Begin runs first in every transaction, before its first write; an
	// error fails the transaction's writes. Nil: nothing.
	Begin func(ctx context.Context, q sqldb.Querier) error
	// Discard runs when the savepoint of a failed write has been rolled
	// back: what that write staged is gone from the transaction. Nil:
	// nothing.
	Discard func()
	// End runs when a transaction has ended, with how. Nil: nothing.
	End func(Outcome)
}

// Committer owns the write path of a store.
type Committer struct {
	begin    func(context.Context) (sqldb.Tx, error)
	maxBatch int
	hooks    Hooks
	reqs     chan *request
	done     chan struct{}

	mu     sync.RWMutex // guards closed against sends on reqs
	closed bool
}

type request struct {
	ctx  context.Context
	fn   WriteFunc
	err  error
	done chan struct{}
}

// New starts a committer. begin opens a write transaction; maxBatch is the
// most writes per transaction (0 means DefaultMaxBatch, 1 turns batching
// off: one transaction per write).
func New(begin func(context.Context) (sqldb.Tx, error), maxBatch int) *Committer {
	return NewWithHooks(begin, maxBatch, Hooks{})
}

// NewWithHooks is New with hooks that learn how each transaction ends.
func NewWithHooks(begin func(context.Context) (sqldb.Tx, error), maxBatch int, hooks Hooks) *Committer {
	if maxBatch <= 0 {
		maxBatch = DefaultMaxBatch
	}
	c := &Committer{
		begin:    begin,
		maxBatch: maxBatch,
		hooks:    hooks,
		reqs:     make(chan *request, maxBatch),
		done:     make(chan struct{}),
	}
	go c.loop()
	return c
}

// Do queues fn and waits until the transaction holding it has committed,
// returning fn's error, the commit's error, or store.ErrClosed. A write
// whose ctx ends while it is queued is not applied; if ctx ends while its
// batch is in flight, Do returns ctx.Err() and the write may or may not be
// committed (the csms writes are idempotent, so retrying is safe).
func (c *Committer) Do(ctx context.Context, fn WriteFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{ctx: ctx, fn: fn, done: make(chan struct{})}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return store.ErrClosed
	}
	select {
	case c.reqs <- r:
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	c.mu.RUnlock()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Queued returns how many writes wait for the committer, beside the batch
// it is running.
func (c *Committer) Queued() int { return len(c.reqs) }

// Close stops accepting writes, waits for the queued ones to commit and
// stops the committer goroutine.
func (c *Committer) Close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.reqs)
	}
	c.mu.Unlock()
	<-c.done
}

func (c *Committer) loop() {
	defer close(c.done)
	batch := make([]*request, 0, c.maxBatch)
	for r := range c.reqs {
		// Take what is already queued, without waiting for more: an idle
		// store commits a lone write at once, a busy one fills batches
		// while the previous commit is in progress.
		batch = append(batch[:0], r)
	fill:
		for len(batch) < c.maxBatch {
			select {
			case r, ok := <-c.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		c.run(batch)
		for i := range batch {
			close(batch[i].done)
			batch[i] = nil
		}
	}
}

// run executes one batch in one transaction and sets every request's err.
func (c *Committer) run(batch []*request) {
	ctx := context.Background()
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	if !c.runPlain(ctx, live) {
		c.runSavepoints(ctx, live)
	}
}

// runPlain is the optimistic pass: the batch without savepoints, because
// writes rarely fail and a savepoint costs two statements per write (two
// network round trips on PostgreSQL). If a write of a batch of several
// fails, it rolls everything back and returns false, and the batch runs
// again with a savepoint around each write: a write is a function of the
// database state, so running it again on the same state gives the same
// result, and the failed first pass left no trace.
func (c *Committer) runPlain(ctx context.Context, live []*request) bool {
	tx, ok := c.start(ctx, live)
	if !ok {
		return true
	}
	for _, r := range live {
		if err := call(ctx, r.fn, tx); err != nil {
			c.rollback(ctx, tx)
			if len(live) == 1 {
				r.err = err // a lone write needs no second pass
				return true
			}
			return false
		}
	}
	c.commit(ctx, tx, live)
	return true
}

// start begins a transaction and runs the Begin hook; on failure every
// write of the batch gets the error.
func (c *Committer) start(ctx context.Context, live []*request) (sqldb.Tx, bool) {
	tx, err := c.begin(ctx)
	if err != nil {
		for _, r := range live {
			r.err = fmt.Errorf("begin transaction: %w", err)
		}
		return nil, false
	}
	if c.hooks.Begin != nil {
		if err := call(ctx, c.hooks.Begin, tx); err != nil {
			c.abort(ctx, tx, live, fmt.Errorf("begin transaction: %w", err))
			return nil, false
		}
	}
	return tx, true
}

// end tells the End hook how the transaction ended.
func (c *Committer) end(o Outcome) {
	if c.hooks.End != nil {
		c.hooks.End(o)
	}
}

// rollback rolls the transaction back; a failed rollback leaves the
// transaction's fate unknown.
func (c *Committer) rollback(ctx context.Context, tx sqldb.Tx) {
	if err := tx.Rollback(ctx); err != nil {
		c.end(Unknown)
		return
	}
	c.end(RolledBack)
}

// runSavepoints runs the batch with a savepoint around each write, so that
// a failing write is rolled back alone and the others commit.
func (c *Committer) runSavepoints(ctx context.Context, live []*request) {
	tx, ok := c.start(ctx, live)
	if !ok {
		return
	}
	for _, r := range live {
		if _, err := tx.Exec(ctx, "SAVEPOINT w"); err != nil {
			c.abort(ctx, tx, live, fmt.Errorf("savepoint: %w", err))
			return
		}
		r.err = call(ctx, r.fn, tx)
		if r.err != nil {
			if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT w"); err != nil {
				// The transaction is unusable, and with it the writes
				// that already ran in it: fail them all (abort keeps the
				// errors of the writes that failed on their own).
				c.abort(ctx, tx, live, fmt.Errorf("rollback to savepoint: %w", err))
				return
			}
			if c.hooks.Discard != nil {
				c.hooks.Discard()
			}
		}
		if _, err := tx.Exec(ctx, "RELEASE SAVEPOINT w"); err != nil {
			c.abort(ctx, tx, live, fmt.Errorf("release savepoint: %w", err))
			return
		}
	}
	c.commit(ctx, tx, live)
}

// commit commits the batch; if that fails, every write that had not failed
// on its own gets the commit's error: nothing uncommitted is acknowledged.
func (c *Committer) commit(ctx context.Context, tx sqldb.Tx, live []*request) {
	if err := tx.Commit(ctx); err != nil {
		_ = tx.Rollback(ctx)
		c.end(Unknown)
		for _, r := range live {
			if r.err == nil {
				r.err = fmt.Errorf("commit: %w", err)
			}
		}
		return
	}
	c.end(Committed)
}

// abort rolls the transaction back and gives err to every request in rs
// that has not failed on its own.
func (c *Committer) abort(ctx context.Context, tx sqldb.Tx, rs []*request, err error) {
	c.rollback(ctx, tx)
	for _, r := range rs {
		if r.err == nil {
			r.err = err
		}
	}
}

// call runs fn, turning a panic into an error so that one bad write cannot
// take the committer, and every other writer, down with it.
func call(ctx context.Context, fn func(context.Context, sqldb.Querier) error, q sqldb.Querier) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return fn(ctx, q)
}
