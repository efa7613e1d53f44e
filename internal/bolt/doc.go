// Package bolt implements task.Store and queue.Queue in one bbolt file, for
// the local mode when tasks must survive a restart or a crash. Open returns
// a DB whose Store, Queue and DLQ share the file and one writer. Both pass
// the conformance suites in internal/tasktest and internal/queuetest.
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
//	                       expires_at; ids are time-ordered (UUID v7), so
//	                       tasks made together share pages
//	idempotency            bucket, created by the first Claim: one key per
//	  <Idempotency-Key>    claim → {"hash","batch","task_ids","created_at",
//	                       "expires_at"}; swept with the expired tasks
//	queue:<name>           bucket: the job queue ("queue:tasks")
//	queue:<name>-dlq       bucket: its dead-letter queue
//	  <seq>                8-byte big-endian sequence number, in order of
//	                       sending → {"id","body","md5","task_id","sent",
//	                       "receives","first_receive","visible_at"}; times
//	                       epoch milliseconds, 0 or omitted when unset;
//	                       task_id only on messages written by the outbox
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
// write, or return a domain error such as task.ErrConflict without writing);
// it runs all operations queued so far, up to Options.MaxBatch, in one
// transaction with one commit, then gives each caller its own result. An
// operation that arrives while the committer is idle commits at once, with
// no timer; under load the batches grow while the previous commit waits for
// the disk, so that many writers share each fsync. DB.Stats reports the
// batch sizes.
//
// # Transactional outbox
//
// With Options.Outbox, Store.Create of a PENDING task writes the task record
// and its queue message (body task.MessageFor(t)) in the same
// transaction, so a submit costs one commit and neither can exist without
// the other. Queue.Send of exactly that body, while that message is still in
// the queue, then writes nothing and returns the message's id: a read of
// the in-memory index. So the submit path of task.Submitter (Create, then
// Send) works unchanged, and the "record, then enqueue" order that it keeps
// in AWS holds here trivially, without its window in which a record exists
// whose message was never sent. Send of any other body, or of that body
// once its message was deleted, writes a new message as usual.
//
// # Queue
//
// Each queue keeps an index in memory: every message by id, a FIFO of the
// visible ones and a heap of those in flight by the time they reappear, with
// the semantics of memory.Queue (visibility timeout, receive counts, redrive
// to the dead-letter queue on the receive after MaxReceiveCount, long polls
// that wake on Send). The index is authoritative while the DB is open;
// Receive never reads the bucket. Send waits for its commit. What SQS itself
// treats as approximate is queued to the committer without waiting: a
// receive's count, first-receive time and visibility, a redrive, and a
// Delete. Close commits everything queued.
//
// # What survives kill -9
//
//   - Every write that returned nil: Create (with its outbox message), Send,
//     Start, Finish and Abandon return only after their commit is fsync'd
//     (unless Options.NoSync). A task accepted with 202 thus has its record
//     and its message on disk.
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
