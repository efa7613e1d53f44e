// Package bolt implements task.Store, task.Outbox and queue.Queue in one
// bbolt file, for the local mode when tasks must survive a restart or a
// crash. Open returns a DB whose Store and queues (Queue, BigQueue and
// their dead-letter queues) share the file and one writer. They pass the
// conformance suites in internal/tasktest and internal/queuetest.
//
// # File layout
//
// Task records are binary and checksummed (see encodeTask in record.go;
// earlier versions wrote checksummed JSON, which still reads); every other
// value is JSON (encoding/json); every key is fixed-form.
//
//	meta                   bucket
//	  version              "1"; Open refuses a file of another version
//	tasks                  bucket: one key per task
//	  <task id>            36-byte UUID → status, number, is_prime, error,
//	                       attempts, created_at, started_at, finished_at,
//	                       expires_at; ids are time-ordered (UUID v7, v8
//	                       for a batch's tasks), so tasks made together
//	                       share pages
//	idempotency            bucket: one key per
//	  <Idempotency-Key>    claim → {"hash","batch","task_ids","created_at",
//	                       "expires_at"}; swept with the expired tasks
//	queue:<name>           bucket: the job queue ("queue:tasks"); also
//	                       <name>-dlq, <name>-big and <name>-big-dlq
//	  <seq>                8-byte big-endian sequence number, in order of
//	                       sending → {"id","body","md5","sent","receives",
//	                       "first_receive","visible_at"}; times epoch
//	                       milliseconds, 0 or omitted when unset (files
//	                       written before may hold a "task_id", ignored)
//
// Tasks are read and written by key; no lookup ever scans. Two background
// passes do: at Open, the queues' index is rebuilt from their buckets, and
// every Options.SweepInterval, DB.Sweep deletes the tasks whose expires_at
// has passed, as DynamoDB's TTL does for the deployed table.
//
// # Writes: group commit
//
// One committer goroutine owns every write. Callers hand it operations
// (closures over the write transaction that check their condition and
// write, or return a domain error such as task.ErrConflict); it runs all
// operations queued so far, up to Options.MaxBatch, in one transaction with
// one commit, then gives each caller its own result. An operation that
// returns an error after it wrote commits none of its writes: the
// transaction notes who writes, and the committer runs the batch again
// without that operation. An
// operation that arrives while the committer is idle commits at once, with
// no timer; under load the batches grow while the previous commit waits for
// the disk, so that many writers share each fsync. DB.Stats reports the
// batch sizes.
//
// # Transactional outbox
//
// Store is a task.Outbox: Store.CreateAndEnqueue writes tasks' records and
// their queue messages (body task.MessageFor(t)), on the DB's Queue or
// BigQueue, in the same transaction, so a submit costs one commit and
// neither can exist without the other. task.Submitter uses it when its
// Store has it, and then sends nothing itself: the "record, then enqueue"
// order it keeps in AWS holds here trivially, without its window in which a
// record exists whose message was never sent. Create, CreateBatch and Send
// write only what they are given.
//
// # Queue
//
// Each queue is a localq.Queue, the queue of internal/memory, whose journal
// is the DB: its index in memory (every message by id, a FIFO of the
// visible ones and a heap of those in flight by the time they reappear;
// visibility timeout, receive counts, redrive to the dead-letter queue on
// the receive after MaxReceiveCount, long polls that wake on Send) is
// authoritative while the DB is open; Receive never reads the bucket. Send
// waits for its commit. What SQS itself treats as approximate is queued to
// the committer without waiting: a receive's count, first-receive time and
// visibility, a redrive, and a Delete. Close commits everything queued.
//
// # What survives kill -9
//
//   - Every write that returned nil: Create, CreateAndEnqueue (with the
//     messages), Send, Start, Finish and Abandon return only after their
//     commit is fsync'd (unless Options.NoSync). A task accepted with 202
//     thus has its record and its message on disk.
//   - Receive and Delete bookkeeping is durable only once a later commit
//     carries it, normally within a commit or two. Lost, it means an older
//     (lower) receive count, a message visible at once instead of at the end
//     of its visibility timeout, a redrive done again, or a deleted message
//     delivered again: the at-least-once delivery consumers must tolerate.
//   - A message in flight at the crash stays in flight after Open until its
//     persisted visible_at, but no later than Open's time plus the
//     visibility timeout; its receive count is the last persisted one.
//
// bbolt's commit is atomic (copy-on-write pages, then the meta page), so a
// crash at any moment leaves the file as of the last commit.
package bolt
