package task

import (
	"fmt"
	"time"
)

// FinalError is the error of a transition refused because the task is
// already final; it wraps ErrConflict and says which final state.
type FinalError struct {
	ID     string
	Status Status
}

func (e *FinalError) Error() string {
	return fmt.Sprintf("task %s is already %s", e.ID, e.Status)
}

// Unwrap makes errors.Is(err, ErrConflict) hold.
func (e *FinalError) Unwrap() error { return ErrConflict }

// Revoked returns t as Store.Revoke writes it, so that every adapter
// writes the same fields; a task that is already final gives a
// *FinalError.
func Revoked(t Task, at, expires time.Time) (Task, error) {
	if t.Status.Final() {
		return t, &FinalError{ID: t.ID, Status: t.Status}
	}
	t.Status = StatusRevoked
	t.IsPrime = false
	t.Error = ""
	t.FinishedAt = at
	t.ExpiresAt = expires
	return t, nil
}
