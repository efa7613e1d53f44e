package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/asyncprime/asyncprime/internal/task"
)

// Revoke implements task.Store.
func (s *Store) Revoke(_ context.Context, id string, at, expires time.Time) (task.Task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	if !ok {
		return task.Task{}, fmt.Errorf("revoke task %s: %w", id, task.ErrNotFound)
	}
	if t.Status.Final() {
		return task.Task{}, fmt.Errorf("revoke: %w", &task.FinalError{ID: id, Status: t.Status})
	}
	t = task.Revoked(t, at, expires)
	s.tasks[id] = t
	return t, nil
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

// Claim implements task.Store under one lock.
func (s *Store) Claim(_ context.Context, c task.Claim) (task.Claim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.claims[c.Key]; ok && !cur.Expired(c.CreatedAt) {
		if cur.Same(c) {
			return c, nil // a retry
		}
		return clone(cur), fmt.Errorf("claim key %s: %w", task.Excerpt(c.Key), task.ErrClaimed)
	}
	s.claims[c.Key] = clone(c)
	return c, nil
}

// Release implements task.Store.
func (s *Store) Release(_ context.Context, c task.Claim) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.claims[c.Key]
	switch {
	case !ok:
		return fmt.Errorf("release key %s: %w", task.Excerpt(c.Key), task.ErrNotFound)
	case !cur.Same(c):
		return fmt.Errorf("release key %s: held by another request: %w", task.Excerpt(c.Key), task.ErrConflict)
	}
	cur.ExpiresAt = c.CreatedAt
	s.claims[c.Key] = cur
	return nil
}

func clone(c task.Claim) task.Claim {
	c.TaskIDs = slices.Clone(c.TaskIDs)
	return c
}
