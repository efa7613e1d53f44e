package task

import (
	"errors"
	"time"
)

// Status is the state of a task. Its values are the strings stored in the
// task store and returned by the API, so they are readable in the DynamoDB
// console and compatible with Celery's names.
type Status string

const (
	// StatusPending means the task was accepted and its message is queued,
	// but no worker has picked it up yet.
	StatusPending Status = "PENDING"
	// StatusStarted means a worker received the message and is checking a
	// number beyond 64 bits, whose check can take long. A number of up to
	// 64 bits goes from PENDING to its result directly (see Processor). A
	// task stays STARTED if its worker dies; the message comes back after
	// its visibility timeout and another worker starts it again.
	StatusStarted Status = "STARTED"
	// StatusSuccess is final: the check ran and Result holds the answer.
	StatusSuccess Status = "SUCCESS"
	// StatusFailure is final: the task could not be processed; Error says why.
	StatusFailure Status = "FAILURE"
	// StatusRevoked is final: a client cancelled the task (DELETE
	// /{task_id}) while it was PENDING or STARTED, as Celery's revoke. A
	// worker that receives its message acknowledges it and records
	// nothing; it does not run the long check of a number beyond 64 bits.
	StatusRevoked Status = "REVOKED"
)

// Final reports whether s is a final state, from which no transition leads.
func (s Status) Final() bool {
	return s == StatusSuccess || s == StatusFailure || s == StatusRevoked
}

// Valid reports whether s is one of the five known states.
func (s Status) Valid() bool {
	switch s {
	case StatusPending, StatusStarted, StatusSuccess, StatusFailure, StatusRevoked:
		return true
	}
	return false
}

// Task is one request to check a number, as kept in the store.
type Task struct {
	ID     string
	Status Status
	Number Number
	// IsPrime is the answer; meaningful only when Status is SUCCESS.
	IsPrime bool
	// Error says why a task failed; set only when Status is FAILURE.
	Error string
	// Attempts counts the times a worker started the task (recorded
	// STARTED): 0 for a number of up to 64 bits, which is never STARTED.
	Attempts int

	CreatedAt  time.Time
	StartedAt  time.Time // zero until a worker starts the task
	FinishedAt time.Time // zero until the task is final
	// ExpiresAt is when the record may be deleted (DynamoDB's TTL attribute
	// expires_at, in epoch seconds). Readers treat an expired task as gone.
	ExpiresAt time.Time
}

// Expired reports whether the task's retention has run out at now.
func (t Task) Expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// Outcome is the final result a worker records with Store.Finish.
type Outcome struct {
	Status     Status // StatusSuccess or StatusFailure
	IsPrime    bool
	Error      string
	FinishedAt time.Time
	ExpiresAt  time.Time
}

var (
	// ErrNotFound means no task has the given id.
	ErrNotFound = errors.New("task not found")
	// ErrExists means Create found a task with the same id.
	ErrExists = errors.New("task already exists")
	// ErrConflict means a transition was refused because the task is not in
	// a state it may leave that way: a duplicate or stale delivery.
	ErrConflict = errors.New("task state conflict")
	// ErrDamaged means a stored record failed its integrity check (its
	// checksum, a known status, a number that parses): whatever it says
	// cannot be trusted, and no retry will change it.
	ErrDamaged = errors.New("the stored record is damaged")
	// ErrNotWritten marks a store's error as certain that nothing of the
	// write was applied, nor ever will be (a commit the database rolled
	// back: the disk is full, say). There is nothing to undo: Accept
	// answers at once rather than retry a roll-back that would fail the
	// same way. A store that cannot be sure (a request whose answer was
	// lost may yet land) does not wrap it.
	ErrNotWritten = errors.New("nothing was written")
)

// Apply returns t with the outcome recorded. Store adapters use it so that
// every one of them writes the same fields.
func Apply(t Task, out Outcome) Task {
	t.Status = out.Status
	t.IsPrime = out.Status == StatusSuccess && out.IsPrime
	t.Error = ""
	if out.Status == StatusFailure {
		t.Error = out.Error
	}
	t.FinishedAt = out.FinishedAt
	t.ExpiresAt = out.ExpiresAt
	return t
}
