package task

import (
	"errors"
	"fmt"
)

// ErrMissingResource means a resource the service needs, the task table or
// a queue, does not exist: it was deleted, never created, or the
// configuration names another one (with BACKEND=aws, an emulator that
// restarted empty). It is a deployment or configuration fault, not a
// transient one: no retry succeeds until an operator restores the
// resource. Adapters return it as a *MissingResourceError, which names
// the resource.
var ErrMissingResource = errors.New("a resource the service needs does not exist")

// MissingResourceError is the error of a call to a backend that answered
// that the resource does not exist. errors.Is(err, ErrMissingResource)
// holds for it.
type MissingResourceError struct {
	// Kind says what the resource is: "table", "queue".
	Kind string
	// Name is the resource's name (a queue's name, not its URL, which
	// holds the account id), fit to show to a client.
	Name string
	// Err is the backend's error.
	Err error
}

func (e *MissingResourceError) Error() string {
	return fmt.Sprintf("the %s %s does not exist: %v", e.Kind, e.Name, e.Err)
}

// Is makes errors.Is(err, ErrMissingResource) hold.
func (e *MissingResourceError) Is(target error) bool { return target == ErrMissingResource }

// Unwrap returns the backend's error.
func (e *MissingResourceError) Unwrap() error { return e.Err }
