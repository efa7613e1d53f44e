package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/asyncprime/asyncprime/internal/task"
)

// Store is a task.Store in memory. The zero value is not usable; call NewStore.
type Store struct {
	mu     sync.RWMutex
	tasks  map[string]task.Task
	claims map[string]task.Claim // by idempotency key
}

var (
	_ task.Store    = (*Store)(nil)
	_ task.Reopener = (*Store)(nil)
)

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{tasks: make(map[string]task.Task), claims: make(map[string]task.Claim)}
}

// Create implements task.Store. Creating the very same task again
// succeeds, as a retried write does in DynamoDB.
func (s *Store) Create(ctx context.Context, t task.Task) error {
	return s.CreateBatch(ctx, []task.Task{t})
}

// CreateBatch implements task.Store: all or none, under one lock.
func (s *Store) CreateBatch(_ context.Context, ts []task.Task) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range ts {
		if cur, ok := s.tasks[t.ID]; ok && cur != t {
			return fmt.Errorf("create task %s: %w", t.ID, task.ErrExists)
		}
	}
	for _, t := range ts {
		s.tasks[t.ID] = t
	}
	return nil
}

// Get implements task.Store.
func (s *Store) Get(_ context.Context, id string) (task.Task, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tasks[id]
	if !ok {
		return task.Task{}, fmt.Errorf("get task %s: %w", id, task.ErrNotFound)
	}
	return t, nil
}

// Start implements task.Store.
func (s *Store) Start(_ context.Context, id string, at time.Time) (task.Task, error) {
	return s.update("start", id, func(t task.Task) (task.Task, error) { return task.Started(t, at) })
}

// Finish implements task.Store.
func (s *Store) Finish(_ context.Context, id string, out task.Outcome) error {
	_, err := s.update("finish", id, func(t task.Task) (task.Task, error) { return task.Finished(t, out) })
	return err
}

// Abandon implements task.Store: a missing task is recorded as t.
func (s *Store) Abandon(_ context.Context, t task.Task) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.tasks[t.ID]; ok {
		if _, err := task.Abandoned(cur, t); err != nil {
			return fmt.Errorf("abandon task %s: %w", t.ID, err)
		}
	}
	s.tasks[t.ID] = t
	return nil
}

// Revoke implements task.Store.
func (s *Store) Revoke(_ context.Context, id string, at, expires time.Time) (task.Task, error) {
	return s.update("revoke", id, func(t task.Task) (task.Task, error) { return task.Revoked(t, at, expires) })
}

// Reopen implements task.Reopener.
func (s *Store) Reopen(_ context.Context, id string, expiresAt time.Time) error {
	_, err := s.update("reopen", id, func(t task.Task) (task.Task, error) { return task.Reopened(t, expiresAt) })
	return err
}

// update applies change to task id under the lock and returns the task as
// written; an error from change leaves the task as it was.
func (s *Store) update(op, id string, change func(task.Task) (task.Task, error)) (task.Task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	if !ok {
		return task.Task{}, fmt.Errorf("%s task %s: %w", op, id, task.ErrNotFound)
	}
	t, err := change(t)
	if err != nil {
		return task.Task{}, fmt.Errorf("%s task %s: %w", op, id, err)
	}
	s.tasks[id] = t
	return t, nil
}

// Claim implements task.Store under one lock.
func (s *Store) Claim(_ context.Context, c task.Claim) (task.Claim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.claims[c.Key]; ok {
		switch {
		case cur.Same(c) && cur.Released():
			return task.Claim{}, fmt.Errorf("claim key %s: %w", task.Excerpt(c.Key), task.ErrReleased)
		case cur.Same(c):
			return c, nil // a retry
		case !cur.Expired(c.CreatedAt):
			return clone(cur), fmt.Errorf("claim key %s: %w", task.Excerpt(c.Key), task.ErrClaimed)
		}
	}
	s.claims[c.Key] = clone(c)
	return c, nil
}

// Holder implements task.Store.
func (s *Store) Holder(_ context.Context, key string, at time.Time) (task.Claim, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	cur, ok := s.claims[key]
	if !ok || cur.Expired(at) {
		return task.Claim{}, fmt.Errorf("key %s: %w", task.Excerpt(key), task.ErrNotFound)
	}
	return clone(cur), nil
}

// Release implements task.Store.
func (s *Store) Release(_ context.Context, c task.Claim) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.claims[c.Key]; ok && !cur.Same(c) {
		return fmt.Errorf("release key %s: held by another request: %w", task.Excerpt(c.Key), task.ErrConflict)
	}
	s.claims[c.Key] = clone(c.Release())
	return nil
}

func clone(c task.Claim) task.Claim {
	c.TaskIDs = slices.Clone(c.TaskIDs)
	return c
}

// Len returns the number of tasks held.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.tasks)
}

// IDs returns the ids of the tasks held, in no particular order.
func (s *Store) IDs() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := make([]string, 0, len(s.tasks))
	for id := range s.tasks {
		ids = append(ids, id)
	}
	return ids
}
