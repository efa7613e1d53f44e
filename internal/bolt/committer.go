package bolt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/asyncprime/asyncprime/internal/task"
)

// ErrClosed is returned by every operation on a DB after Close.
var ErrClosed = errors.New("bolt: database closed")

// DefaultMaxBatch is the largest number of operations the committer puts in
// one transaction unless Options.MaxBatch says otherwise.
const DefaultMaxBatch = 1000

// An opFunc runs inside the committer's write transaction. It checks its
// condition and writes, through tx. Any error it returns is the caller's
// result: if it returns one before writing (a domain error such as
// task.ErrExists or task.ErrConflict), the transaction goes on with the
// other operations of the batch; if it returns one after writing (a failed
// Put, or a check made too late), the committer rolls the batch back and
// runs it again without this operation, so that none of its writes is
// committed. The rule holds by construction: tx is the only way to write.
type opFunc func(tx *txn) error

// txn is the committer's write transaction as one operation sees it: reads
// and writes by bucket and key, with a note of whether the operation wrote.
type txn struct {
	tx    *bbolt.Tx
	wrote bool
}

func (t *txn) get(bucket, key []byte) []byte { return t.tx.Bucket(bucket).Get(key) }

func (t *txn) put(bucket, key, val []byte) error {
	t.wrote = true
	return t.tx.Bucket(bucket).Put(key, val)
}

func (t *txn) delete(bucket, key []byte) error {
	t.wrote = true
	return t.tx.Bucket(bucket).Delete(key)
}

// op states: queued, taken by the committer, or withdrawn by its caller.
const (
	opQueued int32 = iota
	opRunning
	opCancelled
)

type op struct {
	fn    opFunc
	state atomic.Int32
	err   error
	done  chan struct{} // buffered(1); nil for an asynchronous op
	desc  string        // for the log, asynchronous ops only
}

var opPool = sync.Pool{New: func() any { return &op{done: make(chan struct{}, 1)} }}

// committer owns every write to the database: group commit. Callers queue
// operations; one goroutine takes all that are queued (up to maxBatch), runs
// them in a single db.Update (one fsync'd commit) and then hands each caller
// its own result. An operation queued while the database is idle commits at
// once; under load the batches grow by themselves while the previous commit
// waits for the disk.
type committer struct {
	db       *bbolt.DB
	maxBatch int
	log      *slog.Logger
	// interval is the shortest time from the start of one commit to the
	// start of the next; what arrives meanwhile shares the next.
	interval time.Duration
	sleep    func(time.Duration) // time.Sleep; tests replace it

	mu     sync.Mutex
	cond   sync.Cond // signalled when queue grows or closed is set
	queue  []*op
	closed bool
	// backlog: writes queued up while the last commit ran (under load).
	backlog bool
	done    chan struct{} // closed when the loop has exited

	statsMu sync.Mutex
	stats   Stats
}

func newCommitter(db *bbolt.DB, maxBatch int, interval time.Duration, log *slog.Logger) *committer {
	if maxBatch <= 0 {
		maxBatch = DefaultMaxBatch
	}
	c := &committer{db: db, maxBatch: maxBatch, interval: interval, sleep: time.Sleep, log: log, done: make(chan struct{})}
	c.cond.L = &c.mu
	go c.loop()
	return c
}

// Do queues fn and waits for the commit of the transaction that ran it. It
// returns fn's own error, or the commit's error if the transaction failed.
// If ctx ends before the committer takes fn, fn is withdrawn and will never
// run; once taken, Do waits for its commit regardless of ctx, so that a nil
// error means the write is on disk and any other error that it did not
// happen (unless the disk itself failed mid-commit); an error that wraps
// task.ErrNotWritten is sure of it: the operation's writes were rolled
// back, or its commit failed before it wrote its meta page (see
// rolledBack).
func (c *committer) Do(ctx context.Context, fn opFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := opPool.Get().(*op)
	o.fn = fn
	o.state.Store(opQueued)
	if err := c.enqueue(o); err != nil {
		o.fn = nil
		opPool.Put(o)
		return err
	}
	select {
	case <-o.done:
	case <-ctx.Done():
		if o.state.CompareAndSwap(opQueued, opCancelled) {
			// The committer will skip it and never signal done; the op
			// is not reused since the queue may still point at it.
			return ctx.Err()
		}
		<-o.done
	}
	err := o.err
	o.fn, o.err = nil, nil
	opPool.Put(o)
	return err
}

// Go queues fn without waiting for it. Its error, if any, is logged with
// desc. It fails only if the committer is closed. Operations run in the
// order they are queued, Do and Go alike.
func (c *committer) Go(desc string, fn opFunc) error {
	o := &op{fn: fn, desc: desc}
	return c.enqueue(o)
}

func (c *committer) enqueue(o *op) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.queue = append(c.queue, o)
	if len(c.queue) == 1 {
		c.cond.Signal()
	}
	return nil
}

// Close commits every operation queued so far, then stops the committer.
// Later operations fail with ErrClosed. It does not close the bbolt DB.
func (c *committer) Close() {
	c.mu.Lock()
	c.closed = true
	c.cond.Signal()
	c.mu.Unlock()
	<-c.done
}

func (c *committer) loop() {
	defer close(c.done)
	var batch []*op
	var last time.Time // when the last commit started
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && !c.closed {
			c.cond.Wait()
		}
		if len(c.queue) == 0 {
			c.mu.Unlock()
			return
		}
		if wait := c.interval - time.Since(last); c.backlog && wait > 0 && !c.closed && len(c.queue) < c.maxBatch {
			// Under load: let what arrives in the rest of the interval
			// share this commit's two fsyncs. A write that finds the
			// committer idle is committed at once.
			c.mu.Unlock()
			c.sleep(wait)
			c.mu.Lock()
		}
		last = time.Now()
		n := min(len(c.queue), c.maxBatch)
		batch = append(batch[:0], c.queue[:n]...)
		clear(c.queue[:n])
		c.queue = c.queue[n:]
		if len(c.queue) == 0 {
			c.queue = c.queue[:0:0] // let the backing array go
		}
		c.mu.Unlock()
		c.commit(batch)
		clear(batch)
	}
}

// commit runs one batch in one transaction. An operation that fails after
// writing is given its error, and the batch runs again without it.
func (c *committer) commit(batch []*op) {
	live := batch[:0]
	for _, o := range batch {
		if o.state.CompareAndSwap(opQueued, opRunning) {
			live = append(live, o)
		}
	}
	for len(live) > 0 {
		failed := -1
		var txid int // the id the transaction commits as
		err := c.db.Update(func(tx *bbolt.Tx) error {
			txid = tx.ID()
			t := &txn{tx: tx}
			for i, o := range live {
				t.wrote = false
				if o.err = run(o.fn, t); o.err != nil && t.wrote {
					failed = i
					return o.err
				}
			}
			return nil
		})
		if failed >= 0 {
			o := live[failed]
			c.finish(o, fmt.Errorf("bolt: write rolled back: %w (%w)", o.err, task.ErrNotWritten))
			live = append(live[:failed], live[failed+1:]...)
			continue
		}
		switch {
		case err != nil && c.rolledBack(txid):
			// A failed write of the pages, the disk full: nothing of the
			// batch was written.
			err = fmt.Errorf("bolt: commit: %w (%w)", err, task.ErrNotWritten)
		case err != nil:
			err = fmt.Errorf("bolt: commit: %w", err)
		default:
			c.count(len(live))
		}
		// Before this batch's writers hear back: did others queue up
		// while it ran?
		c.mu.Lock()
		c.backlog = len(c.queue) > 0
		c.mu.Unlock()
		for _, o := range live {
			if err != nil {
				o.err = err
			}
			c.finish(o, o.err)
		}
		return
	}
}

// rolledBack reports whether the database, after a failed commit, is
// still at the transaction before txid: the commit failed before it wrote
// its meta page, so that none of its writes is read, now or after a
// restart. (A meta page written but not synced is in the page cache, which
// bbolt reads, and after a restart too: that commit may have landed.)
func (c *committer) rolledBack(txid int) bool {
	var now int
	err := c.db.View(func(tx *bbolt.Tx) error {
		now = tx.ID()
		return nil
	})
	return err == nil && now < txid
}

// run calls fn. A panic counts as an error after a write (whatever fn wrote
// before it is rolled back), so that the committer lives on.
func run(fn opFunc, t *txn) (err error) {
	defer func() {
		if r := recover(); r != nil {
			t.wrote = true
			err = fmt.Errorf("operation panicked: %v", r)
		}
	}()
	return fn(t)
}

func (c *committer) finish(o *op, err error) {
	if o.done == nil {
		if err != nil {
			c.log.Warn("asynchronous write failed; the queue on disk may lag the one in memory",
				slog.String("op", o.desc), slog.Any("error", err))
		}
		return
	}
	o.err = err
	o.done <- struct{}{}
}

func (c *committer) count(n int) {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	c.stats.Commits++
	c.stats.Ops += uint64(n)
	c.stats.BatchSizes[batchBucket(n)]++
	c.stats.MaxBatch = max(c.stats.MaxBatch, n)
}

func (c *committer) Stats() Stats {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	return c.stats
}

// Stats counts the committer's work since Open.
type Stats struct {
	Commits uint64 // transactions committed
	Ops     uint64 // operations in them
	// BatchSizes is a histogram of operations per commit: BatchSizes[0]
	// counts commits of 1 operation, BatchSizes[i] those of 2^(i-1)+1 to
	// 2^i operations; the last bucket holds every larger batch.
	BatchSizes [12]uint64
	MaxBatch   int // the largest batch committed
}

// MeanBatch is the average number of operations per commit.
func (s Stats) MeanBatch() float64 {
	if s.Commits == 0 {
		return 0
	}
	return float64(s.Ops) / float64(s.Commits)
}

// Sub returns the work done between other and s. MaxBatch stays s's: the
// largest since Open.
func (s Stats) Sub(other Stats) Stats {
	d := Stats{Commits: s.Commits - other.Commits, Ops: s.Ops - other.Ops, MaxBatch: s.MaxBatch}
	for i := range s.BatchSizes {
		d.BatchSizes[i] = s.BatchSizes[i] - other.BatchSizes[i]
	}
	return d
}

// batchBucket is the histogram bucket of a batch of n ≥ 1 operations.
func batchBucket(n int) int {
	if n <= 1 {
		return 0
	}
	return min(bits.Len(uint(n-1)), len(Stats{}.BatchSizes)-1)
}

// Histogram renders BatchSizes as "1:n 2:n 3-4:n ...", omitting empty
// buckets.
func (s Stats) Histogram() string {
	var out []byte
	for i, n := range s.BatchSizes {
		if n == 0 {
			continue
		}
		lo, hi := 1, 1
		if i > 0 {
			lo, hi = 1<<(i-1)+1, 1<<i
		}
		if len(out) > 0 {
			out = append(out, ' ')
		}
		switch {
		case i == len(s.BatchSizes)-1:
			out = fmt.Appendf(out, "%d+:%d", lo, n)
		case lo == hi:
			out = fmt.Appendf(out, "%d:%d", lo, n)
		default:
			out = fmt.Appendf(out, "%d-%d:%d", lo, hi, n)
		}
	}
	return string(out)
}
