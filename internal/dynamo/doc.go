// Package dynamo implements task.Store on Amazon DynamoDB, with the SDK's
// attributevalue (items from a tagged struct) and expression (conditions and
// updates) packages.
//
// # Item layout
//
// One item per task in a table whose partition key is task_id (S) and that
// has no sort key, except for the tasks of a batch until they are written
// (below). The SAM template and internal/provision create the table; TTL
// is enabled on expires_at.
//
//	attribute    type  content
//	task_id      S     the task id (partition key)
//	status       S     PENDING, STARTED, SUCCESS, FAILURE or REVOKED
//	                   (task.Status)
//	number       S     the number in canonical decimal form; S, not N,
//	                   because N keeps only 38 significant digits and a
//	                   number may have up to task.MaxDigits
//	is_prime     BOOL  the answer; present only when status is SUCCESS
//	error        S     why the task failed; present only when status is
//	                   FAILURE (and the reason is not empty)
//	attempts     N     how many times a worker started the task
//	created_at   S     RFC 3339 with nanoseconds, UTC; absent when zero
//	started_at   S     likewise
//	finished_at  S     likewise
//	expires_at   N     epoch seconds; DynamoDB's TTL attribute; absent when
//	                   zero
//
// # Batches
//
// The tasks of a batch submit have ids that name their batch
// (task.NewBatchIDs: version 8 UUIDs that differ only in their last four
// hex digits, the task's index). CreateBatch writes such a batch as one
// item (batch.go), in place of an item per task:
//
//	attribute        type  content
//	task_id          S     "batch#" and the batch name (task.BatchOf: the
//	                       ids' first 32 characters)
//	numbers          L     the tasks' numbers, S each, in index order
//	created_at       S     as a task's
//	task_expires_at  N     the tasks' expires_at while PENDING
//	expires_at       N     the TTL: task_expires_at plus the retention
//	                       again (task_expires_at − created_at), so that a
//	                       task finished before its own expiry keeps its
//	                       number as long as its result
//
// A task of the batch has no item of its own until its first write, and is
// PENDING until then. Its item (task_id its id) then holds what the write
// wrote: Finish writes no number (it makes no read), so a finished task's
// number and created_at come from the batch item when it is read; Start,
// Revoke and Reopen read the batch item first and copy the number and
// created_at (Start: expires_at too) into the task's item, which is then
// self-sufficient, as is the whole task Abandon writes.
//
// Get of a batch task is one strongly consistent BatchGetItem of its item
// and the batch item: its item wins when it has the number; an item
// without one takes number and created_at (and expires_at, if it has none)
// from the batch item; no item is the PENDING task the batch item holds at
// its index. A batch item that is missing, or has no number at that
// index, and no self-sufficient item of its own, is task.ErrNotFound.
//
// Idempotency claims (below) keep the ids, so a replayed batch answers the
// same ids and they find the same batch item. Tasks given to CreateBatch
// that are not exactly one batch's ids in index order, all PENDING with
// one created_at and expires_at, are written as before, an item each; a
// batch id with an item of its own and no batch item behaves as a single
// task.
//
// # Writes
//
// Every write is a single conditional request, so that concurrent or repeated
// deliveries never move a task backwards. A single task's writes require
// its item (attribute_exists(task_id)); a batch task's are upserts, whose
// condition a missing item meets where PENDING may be left
// (attribute_not_exists(task_id) OR status IN (...)):
//
//   - Create: PutItem if attribute_not_exists(task_id).
//   - Start: UpdateItem if the task's status is PENDING or STARTED; sets
//     status and started_at and adds one to attempts (ADD), and returns the
//     item as written (ReturnValues ALL_NEW). For a batch task, a GetItem
//     of the batch item first (a batch that does not hold the task is
//     task.ErrNotFound) and if_not_exists copies of number, created_at and
//     expires_at.
//   - Finish: UpdateItem with the same condition; sets the final status,
//     is_prime or error (removing the other), finished_at and expires_at.
//     No read, for a batch task too: the worker's one write per task.
//   - Abandon: PutItem of the whole final task if status = PENDING (a batch
//     task: or its item does not exist). It uses PutItem, not UpdateItem,
//     so that the submit function's role needs no more than PutItem. For
//     a batch task it does not read the batch item, so it writes its
//     FAILURE even if the batch item never landed (where the other stores
//     answer ErrNotFound): a tombstone of an id no client was given, which
//     Get returns and TTL removes (submit gives it an hour).
//   - Revoke: UpdateItem with the same condition as Start; sets status
//     REVOKED, finished_at and expires_at (revoke.go); a batch task reads
//     its batch item first and copies number and created_at, as Start. So
//     DELETE of a made-up batch id is 404, never a REVOKED item.
//   - Reopen: UpdateItem if status = FAILURE (a batch task with no item
//     is PENDING: ErrConflict), as Revoke for a batch task (retry.go).
//   - CreateBatch: the tasks of one batch, one PutItem of the batch item if
//     attribute_not_exists(task_id), ALL_OLD on failure: the very same
//     item is a retry (success), any other ErrExists. Other tasks, one
//     TransactWriteItems of a Put per task, each if
//     attribute_not_exists(task_id), all or none (batch.go).
//
// A blind Finish of a batch id whose batch item does not exist leaves an
// item with a result and no number, which no Get returns (ErrNotFound)
// and TTL removes. Only an id read from a queue message can get there (a
// message forged onto the queue, or one delivered after its batch item
// expired); the API's writes (DELETE) read the batch item first.
//
// # Idempotency claims
//
// An Idempotency-Key's claim is an item of the same table whose task_id is
// "idem#<key>" (no task id has that form, and the status function reads
// UUIDs only), with request_hash (S), batch (BOOL), task_ids (L of S, in
// order), created_at (S) and expires_at (N, so TTL deletes it). Claim is a
// PutItem if attribute_not_exists(task_id) OR expires_at <= now, returning
// the holder on failure (ALL_OLD); Release is a PutItem that sets
// expires_at to created_at, if request_hash and task_ids[0] still match
// (idempotency.go). Holder, which the submit calls first so that a retry
// of an accepted request writes nothing, is a consistent GetItem of it.
// Submit's role thus needs PutItem and GetItem.
//
// When a condition fails, the request asks for the item as it was
// (ReturnValuesOnConditionCheckFailure ALL_OLD): no item means
// task.ErrNotFound (for a batch task's upsert, a PENDING task:
// task.ErrConflict), an item means task.ErrConflict. No extra read is made
// to tell them apart, and reads (GetItem, BatchGetItem) are always
// strongly consistent.
//
// # IAM
//
// Submit needs dynamodb:PutItem (which also authorises the Puts of its
// TransactWriteItems); the worker dynamodb:UpdateItem, and
// dynamodb:GetItem to start a batch task (numbers beyond 64 bits only);
// status dynamodb:GetItem (a single task, and the batch item before a
// batch task's Revoke), dynamodb:BatchGetItem (a batch task) and
// dynamodb:UpdateItem (Revoke); the dead-letter function the reads as
// status, and dynamodb:UpdateItem.
package dynamo
