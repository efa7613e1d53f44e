// Package dynamo implements task.Store on Amazon DynamoDB, with the SDK's
// attributevalue (items from a tagged struct) and expression (conditions and
// updates) packages.
//
// # Item layout
//
// One item per task in a table whose partition key is task_id (S) and that
// has no sort key. The SAM template and internal/provision create the table;
// TTL is enabled on expires_at.
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
// # Writes
//
// Every write is a single conditional request, so that concurrent or repeated
// deliveries never move a task backwards:
//
//   - Create: PutItem if attribute_not_exists(task_id).
//   - Start: UpdateItem if the task exists and its status is PENDING or
//     STARTED; sets status and started_at and adds one to attempts (ADD), and
//     returns the item as written (ReturnValues ALL_NEW).
//   - Finish: UpdateItem with the same condition; sets the final status,
//     is_prime or error (removing the other), finished_at and expires_at.
//   - Abandon: PutItem of the whole final task if status = PENDING. It uses
//     PutItem, not UpdateItem, so that the submit function's role needs no
//     more than PutItem.
//   - Revoke: UpdateItem with the same condition; sets status REVOKED,
//     finished_at and expires_at (revoke.go).
//   - CreateBatch: one TransactWriteItems of a Put per task, each if
//     attribute_not_exists(task_id), all or none (batch.go).
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
// (idempotency.go). Both use PutItem, so submit's role needs nothing more.
//
// When a condition fails, the request asks for the item as it was
// (ReturnValuesOnConditionCheckFailure ALL_OLD): no item means
// task.ErrNotFound, an item means task.ErrConflict. No extra read is made,
// so the worker's role needs only UpdateItem, and reads (GetItem) are always
// strongly consistent.
//
// # IAM
//
// Submit needs dynamodb:PutItem (which also authorises the Puts of its
// TransactWriteItems); the worker dynamodb:UpdateItem; status
// dynamodb:GetItem and dynamodb:UpdateItem (Revoke).
package dynamo
