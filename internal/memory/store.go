package memory

import (
	"context"
	"fmt"
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

var _ task.Store = (*Store)(nil)

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{tasks: make(map[string]task.Task), claims: make(map[string]task.Claim)}
}

// Create implements task.Store. Creating the very same task again
// succeeds, as a retried write does in DynamoDB.
func (s *Store) Create(_ context.Context, t task.Task) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.tasks[t.ID]; ok {
		if cur == t {
			return nil // the same task, created before: a retry
		}
		return fmt.Errorf("create task %s: %w", t.ID, task.ErrExists)
	}
	s.tasks[t.ID] = t
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
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	if !ok {
		return task.Task{}, fmt.Errorf("start task %s: %w", id, task.ErrNotFound)
	}
	if t.Status.Final() {
		return task.Task{}, fmt.Errorf("start task %s in state %s: %w", id, t.Status, task.ErrConflict)
	}
	t.Status, t.StartedAt = task.StatusStarted, at
	t.Attempts++
	s.tasks[id] = t
	return t, nil
}

// Finish implements task.Store.
func (s *Store) Finish(_ context.Context, id string, out task.Outcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	if !ok {
		return fmt.Errorf("finish task %s: %w", id, task.ErrNotFound)
	}
	if t.Status.Final() {
		return fmt.Errorf("finish task %s in state %s: %w", id, t.Status, task.ErrConflict)
	}
	s.tasks[id] = task.Apply(t, out)
	return nil
}

// Abandon implements task.Store.
func (s *Store) Abandon(_ context.Context, t task.Task) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.tasks[t.ID]
	if !ok {
		return fmt.Errorf("abandon task %s: %w", t.ID, task.ErrNotFound)
	}
	if cur.Status != task.StatusPending {
		return fmt.Errorf("abandon task %s in state %s: %w", t.ID, cur.Status, task.ErrConflict)
	}
	s.tasks[t.ID] = t
	return nil
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
