package bolt

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/queue/localq"
)

// Options configures a DB. The zero value is usable: an fsync'd file, SQS's
// default visibility timeout and no dead-lettering.
type Options struct {
	// QueueName names the job queue in the records' EventSourceARN and in
	// its bucket; "tasks" if empty. The dead-letter queue is QueueName-dlq,
	// the big-task queue QueueName-big.
	QueueName string
	// VisibilityTimeout is how long a received message stays invisible;
	// queue.DefaultVisibilityTimeout if zero.
	VisibilityTimeout time.Duration
	// MaxReceiveCount is the redrive policy: a message received this many
	// times moves to the dead-letter queue on the next receive. Zero or
	// less: never, as memory.Queue.
	MaxReceiveCount int
	// MaxBatch bounds the operations per commit; DefaultMaxBatch if zero.
	MaxBatch int
	// CommitInterval is the shortest time between the starts of two
	// commits under load: when writes queued up while a commit ran, the
	// next commit waits for the rest of the interval, so that what arrives
	// meanwhile shares it. It trades up to that much latency under load for
	// fewer fsyncs and less CPU; a write that finds no backlog commits at
	// once. DefaultCommitInterval if zero, none if negative.
	CommitInterval time.Duration
	// NoSync skips fsync on commit. For tests only: a crash of the machine
	// (not just of the process) can then lose or corrupt the file.
	NoSync bool
	// SweepInterval is how often expired tasks are deleted (see Sweep);
	// DefaultSweepInterval if zero, never if negative.
	SweepInterval time.Duration
	// LockTimeout is how long Open waits for another process to release
	// the file; one second if zero.
	LockTimeout time.Duration
	Now         func() time.Time // time.Now if nil
	Logger      *slog.Logger     // slog.Default() if nil
}

// DefaultCommitInterval is Options.CommitInterval's default: under load,
// fewer commits and less CPU per task for at most 0.5 ms more per write.
// Of none, 0.25, 0.5, 1 and 2 ms and a pause as long as the last commit
// took, 0.25-0.5 ms gave the lowest submit p99 at 1,000 jobs/s, and 0.5 ms
// also with the disk busy (docs/benchmarks.md has the measurements).
const DefaultCommitInterval = 500 * time.Microsecond

// DB is one bbolt file holding a task store, a job queue and its
// dead-letter queue, all written by one committer.
type DB struct {
	bolt  *bbolt.DB
	c     *committer
	opts  Options
	log   *slog.Logger
	store *Store
	queue *Queue
	dlq   *Queue
	// big and bigDLQ are the big-task queue and its dead-letter queue.
	big, bigDLQ *Queue

	closing   chan struct{} // closed by Close; wakes long polls
	closeOnce sync.Once
	closeErr  error
}

// Open opens or creates the database file at path, creating its parent
// directories, and rebuilds the queues' in-memory index from it.
func Open(path string, opts Options) (*DB, error) {
	opts.QueueName = cmp.Or(opts.QueueName, "tasks")
	opts.VisibilityTimeout = cmp.Or(max(opts.VisibilityTimeout, 0), queue.DefaultVisibilityTimeout)
	opts.LockTimeout = cmp.Or(max(opts.LockTimeout, 0), time.Second)
	opts.Logger = cmp.Or(opts.Logger, slog.Default())
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil {
		switch {
		case fi.IsDir():
			// bbolt opens it and fails to read a header: not damage.
			return nil, fmt.Errorf("open %s: it is a directory, not a database file; move it aside, or use another data directory, so that the database file can be made there", path)
		case fi.Size() == 0:
			// bbolt makes a new database of an empty file. Only a missing
			// file is new: an empty one was truncated, and starting afresh
			// would answer 404 for every task it held.
			return nil, fmt.Errorf("open %s: the file is empty (0 bytes), so its tasks are gone; restore it from a backup, or delete it to start with a new, empty database", path)
		}
	}
	if err := precheck(path, opts); err != nil {
		return nil, err
	}
	db, err := openChecked(path, opts)
	if err != nil {
		return nil, err
	}
	db.c = newCommitter(db.bolt, opts.MaxBatch, max(cmp.Or(opts.CommitInterval, DefaultCommitInterval), 0), opts.Logger)
	if opts.SweepInterval >= 0 {
		go db.sweepLoop(cmp.Or(opts.SweepInterval, DefaultSweepInterval))
	}
	return db, nil
}

// precheck reads every page an existing file's buckets reach, read-only,
// before the file is opened for writing, and checks them (checkPages):
// bbolt meets damaged pages with panics and faults, some on a goroutine
// of its own where they cannot be caught (the free-list rebuild at Open),
// some at the first read of a damaged element, long after Open; here they
// become an error. A file shorter than its pages (cut short: a copy that
// stopped early) is refused before any page is read: bbolt maps the file,
// and a page past its end is a SIGBUS.
func precheck(path string, opts Options) (err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil // a new file, or one Open will report on
	}
	bdb, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: opts.LockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return fmt.Errorf("open %s: the file is locked by another process", path)
	}
	if _, ok := errors.AsType[*fs.PathError](err); ok {
		return openFailed(path, err) // refused by the system, not read: not damage
	}
	if err != nil {
		return damagedFile(path, err)
	}
	defer bdb.Close()
	f, err := os.Open(path)
	if err != nil {
		return openFailed(path, err)
	}
	defer f.Close()
	defer func() {
		if r := recover(); r != nil {
			err = damagedFile(path, fmt.Errorf("%v", r))
		}
	}()
	return bdb.View(func(tx *bbolt.Tx) error {
		if used := tx.Size(); fi.Size() < used {
			return damagedFile(path, fmt.Errorf("the file is %d bytes, but its pages reach byte %d: it was cut short", fi.Size(), used))
		}
		if err := checkPages(f, bdb.Info().PageSize, uint64(tx.ID())); err != nil {
			return damagedFile(path, err)
		}
		return nil
	})
}

// openFailed is the error of opening the file at path that the system
// refused (permission denied, a read-only file system): the system's
// error names the path already, so it is named once.
func openFailed(path string, err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok && pe.Path == path {
		if pe.Op != "open" {
			return fmt.Errorf("open %s: %s: %w", path, pe.Op, pe.Err)
		}
		return fmt.Errorf("open %s: %w", path, pe.Err)
	}
	return fmt.Errorf("open %s: %w", path, err)
}

func damagedFile(path string, cause error) error {
	return fmt.Errorf("open %s: %w (%v); stop every process using it, move it aside and restore it from a backup, or delete it to start with a new, empty database (its tasks are then lost)", path, ErrDamagedFile, cause)
}

// openChecked opens the file and loads it, turning the panics with which
// bbolt meets some damaged pages into an error that says what to do.
func openChecked(path string, opts Options) (db *DB, err error) {
	var bdb *bbolt.DB
	defer func() {
		if r := recover(); r != nil {
			if bdb != nil {
				bdb.Close()
			}
			db, err = nil, damagedFile(path, fmt.Errorf("%v", r))
		}
	}()
	bdb, err = bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: opts.LockTimeout,
		NoSync:  opts.NoSync,
		// The free list is rebuilt by a scan at Open instead of written at
		// every commit, as etcd does: fewer pages per commit.
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
		// Room to grow before a remap, which would wait for readers.
		InitialMmapSize: 256 << 20,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: the file is locked by another process", path)
	}
	if err != nil {
		if errors.Is(err, bolterrors.ErrInvalid) || errors.Is(err, bolterrors.ErrChecksum) || errors.Is(err, bolterrors.ErrVersionMismatch) {
			return nil, damagedFile(path, err)
		}
		return nil, openFailed(path, err)
	}
	db = &DB{bolt: bdb, opts: opts, log: opts.Logger, closing: make(chan struct{})}
	newQueue := func(name string, dlq *Queue) *Queue {
		return localq.New(localq.Options{
			Name: name, VisibilityTimeout: opts.VisibilityTimeout, DeadLetter: dlq,
			MaxReceiveCount: opts.MaxReceiveCount, Now: opts.Now, Journal: journal{db},
		})
	}
	db.dlq = newQueue(opts.QueueName+"-dlq", nil)
	db.queue = newQueue(opts.QueueName, db.dlq)
	db.bigDLQ = newQueue(opts.QueueName+"-big-dlq", nil)
	db.big = newQueue(opts.QueueName+"-big", db.bigDLQ)
	db.store = &Store{db: db}
	if err := db.init(); err != nil {
		bdb.Close()
		if errors.Is(err, ErrDamagedFile) {
			return nil, err // damagedFile names the file
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// ErrDamagedFile means the database file is not one bbolt can read: it was
// damaged on disk.
var ErrDamagedFile = errors.New("the database file is damaged")

// init creates the buckets of a new file, checks the version of an old one
// and loads the queues.
func (db *DB) init() error {
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		switch v := meta.Get(keyVersion); {
		case v == nil:
			if err := meta.Put(keyVersion, []byte(schemaVersion)); err != nil {
				return err
			}
		case string(v) != schemaVersion:
			return fmt.Errorf("file has schema version %q; this build reads %q", v, schemaVersion)
		}
		buckets := [][]byte{bucketTasks, bucketClaims}
		for _, q := range db.queues() {
			buckets = append(buckets, queueBucket(q.Name()))
		}
		for _, name := range buckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return db.bolt.View(func(tx *bbolt.Tx) error {
		for _, q := range db.queues() {
			if err := load(tx, q); err != nil {
				return damagedFile(db.bolt.Path(), err)
			}
		}
		db.log.Info("bolt: opened",
			slog.String("path", db.bolt.Path()),
			slog.Int("messages", db.queue.Len()),
			slog.Int("big_messages", db.big.Len()),
			slog.Int("dead_letters", db.dlq.Len()+db.bigDLQ.Len()))
		return nil
	})
}

func (db *DB) queues() []*Queue { return []*Queue{db.queue, db.dlq, db.big, db.bigDLQ} }

// Store returns the task store.
func (db *DB) Store() *Store { return db.store }

// Queue returns the job queue.
func (db *DB) Queue() *Queue { return db.queue }

// DLQ returns the job queue's dead-letter queue.
func (db *DB) DLQ() *Queue { return db.dlq }

// BigQueue returns the queue for the tasks of numbers beyond 64 bits
// (task.Submitter.BigQueue), with a dead-letter queue of its own.
func (db *DB) BigQueue() *Queue { return db.big }

// BigDLQ returns the big-task queue's dead-letter queue.
func (db *DB) BigDLQ() *Queue { return db.bigDLQ }

// Stats returns the committer's counters.
func (db *DB) Stats() Stats { return db.c.Stats() }

// Close commits every queued write, including the queue bookkeeping that
// Receive and Delete leave to the committer, then closes the file. Later
// calls on the DB, its store and its queues fail with ErrClosed. Close is
// idempotent.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		close(db.closing)
		db.c.Close()
		if err := db.bolt.Close(); err != nil {
			db.closeErr = fmt.Errorf("close %s: %w", db.bolt.Path(), err)
		}
	})
	return db.closeErr
}

// closed reports whether Close has begun.
func (db *DB) closed() bool {
	select {
	case <-db.closing:
		return true
	default:
		return false
	}
}
