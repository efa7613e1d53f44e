package metrics

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/asyncprime/asyncprime/internal/task"
)

// Kind says what happened to a task.
type Kind string

const (
	// Submitted: a PENDING task was recorded (Store.Create).
	Submitted Kind = "submitted"
	// Started: a worker started the task (Store.Start); Task.Attempts
	// says which attempt.
	Started Kind = "started"
	// Finished: the task reached SUCCESS or FAILURE (Store.Finish).
	Finished Kind = "finished"
	// Abandoned: a task whose message could not be queued was recorded as
	// FAILURE (Store.Abandon).
	Abandoned Kind = "abandoned"
	// Retried: an operator moved a FAILURE task back to PENDING
	// (task.Reopener).
	Retried Kind = "retried"
	// Revoked: a client cancelled a PENDING or STARTED task (Store.Revoke).
	Revoked Kind = "revoked"
)

// Event is one transition, with the task as written. For Finished, Task
// holds what the store returned at Start, with the outcome applied, when
// the same process started it (always so in a worker); otherwise only the
// id and the outcome. CheckDuration is the time from Start to Finish in
// that process, zero if unknown.
type Event struct {
	Kind          Kind
	Task          task.Task
	CheckDuration time.Duration
}

// Observer is told of each transition. For each task, the transitions are
// told in the order they were written: its Submitted first.
type Observer interface {
	Observe(ctx context.Context, e Event)
}

// maxStarted bounds the tasks Store remembers between Start and Finish;
// a task whose Finish never comes (its check timed out) is forgotten when
// the bound is reached.
const maxStarted = 10000

// Store is a task.Store that tells an Observer of every write that
// succeeded. It also implements task.Reopener and task.Outbox when the
// store it wraps does.
type Store struct {
	task.Store
	obs Observer

	mu      sync.Mutex
	started map[string]task.Task
	// creating holds the tasks whose create has not returned yet, with
	// the transitions of theirs that landed meanwhile: an Outbox queues a
	// task's message in the create's own write, and a worker may take it
	// and finish the task before the create returns. Those transitions
	// are told after the Submitted, not before it.
	creating map[string][]Event
}

var (
	_ task.Store    = (*Store)(nil)
	_ task.Reopener = (*Store)(nil)
	_ task.Outbox   = (*Store)(nil)
)

// Observe returns s, telling obs of each transition.
func Observe(s task.Store, obs Observer) *Store {
	return &Store{Store: s, obs: obs, started: make(map[string]task.Task), creating: make(map[string][]Event)}
}

// Create implements task.Store.
func (s *Store) Create(ctx context.Context, t task.Task) error {
	return s.create(ctx, []task.Task{t}, func() error { return s.Store.Create(ctx, t) })
}

// CreateBatch implements task.Store.
func (s *Store) CreateBatch(ctx context.Context, ts []task.Task) error {
	return s.create(ctx, ts, func() error { return s.Store.CreateBatch(ctx, ts) })
}

// CreateAndEnqueue implements task.Outbox if the wrapped store does; if
// not, it returns task.ErrNoOutbox.
func (s *Store) CreateAndEnqueue(ctx context.Context, jobs []task.Job) error {
	o, ok := s.Store.(task.Outbox)
	if !ok {
		return fmt.Errorf("the %T store: %w", s.Store, task.ErrNoOutbox)
	}
	ts := make([]task.Task, len(jobs))
	for i, j := range jobs {
		ts[i] = j.Task
	}
	return s.create(ctx, ts, func() error { return o.CreateAndEnqueue(ctx, jobs) })
}

// create runs write, the create of ts, and tells of the PENDING tasks it
// submitted, each followed by its transitions that landed while write
// ran (see creating). The lock is held while it tells, so that a
// transition that lands later is told after these.
func (s *Store) create(ctx context.Context, ts []task.Task, write func() error) error {
	s.mu.Lock()
	for _, t := range ts {
		s.creating[t.ID] = nil
	}
	s.mu.Unlock()
	err := write()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range ts {
		held := s.creating[t.ID]
		delete(s.creating, t.ID)
		if err == nil && t.Status == task.StatusPending {
			s.obs.Observe(ctx, Event{Kind: Submitted, Task: t})
		}
		for _, e := range held { // they landed, whatever write says
			s.obs.Observe(ctx, e)
		}
	}
	return err
}

// tell tells the observer of e, or holds it until its task's create has
// returned and its Submitted has been told (see creating).
func (s *Store) tell(ctx context.Context, e Event) {
	s.mu.Lock()
	if held, ok := s.creating[e.Task.ID]; ok {
		s.creating[e.Task.ID] = append(held, e)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.obs.Observe(ctx, e)
}

// Revoke implements task.Store.
func (s *Store) Revoke(ctx context.Context, id string, at, expires time.Time) (task.Task, error) {
	t, err := s.Store.Revoke(ctx, id, at, expires)
	if err != nil {
		return t, err
	}
	s.mu.Lock()
	delete(s.started, id)
	s.mu.Unlock()
	s.tell(ctx, Event{Kind: Revoked, Task: t})
	return t, nil
}

// Start implements task.Store.
func (s *Store) Start(ctx context.Context, id string, at time.Time) (task.Task, error) {
	t, err := s.Store.Start(ctx, id, at)
	if err != nil {
		return t, err
	}
	s.mu.Lock()
	if len(s.started) >= maxStarted {
		clear(s.started)
	}
	s.started[id] = t
	s.mu.Unlock()
	s.tell(ctx, Event{Kind: Started, Task: t})
	return t, nil
}

// Finish implements task.Store.
func (s *Store) Finish(ctx context.Context, id string, out task.Outcome) error {
	err := s.Store.Finish(ctx, id, out)
	s.mu.Lock()
	t, known := s.started[id]
	if err == nil || !known {
		delete(s.started, id)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	e := Event{Kind: Finished, Task: task.Apply(task.Task{ID: id}, out)}
	if known {
		e.Task = task.Apply(t, out)
		e.CheckDuration = max(out.FinishedAt.Sub(t.StartedAt), 0)
	}
	s.tell(ctx, e)
	return nil
}

// Abandon implements task.Store.
func (s *Store) Abandon(ctx context.Context, t task.Task) error {
	if err := s.Store.Abandon(ctx, t); err != nil {
		return err
	}
	s.tell(ctx, Event{Kind: Abandoned, Task: t})
	return nil
}

// Reopen implements task.Reopener if the wrapped store does.
func (s *Store) Reopen(ctx context.Context, id string, expiresAt time.Time) error {
	r, ok := s.Store.(task.Reopener)
	if !ok {
		return fmt.Errorf("reopen task %s: the %T store cannot reopen tasks", id, s.Store)
	}
	if err := r.Reopen(ctx, id, expiresAt); err != nil {
		return err
	}
	t, err := s.Store.Get(ctx, id)
	if err != nil {
		t = task.Task{ID: id, Status: task.StatusPending, ExpiresAt: expiresAt}
	}
	s.tell(ctx, Event{Kind: Retried, Task: t})
	return nil
}
