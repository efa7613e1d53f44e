package task_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/task"
)

// claimStore is a memory store whose Claim can fail, and whose Release
// and Abandon can hang (answer ctx's error when it is done), as a store
// that stopped answering.
type claimStore struct {
	*memory.Store
	claimErr error
	released int
	hung     bool
}

func (s *claimStore) Claim(ctx context.Context, c task.Claim) (task.Claim, error) {
	if s.claimErr != nil {
		s.Store.Claim(ctx, c) // it lands, but its answer is lost
		return task.Claim{}, s.claimErr
	}
	return s.Store.Claim(ctx, c)
}

func (s *claimStore) Release(ctx context.Context, c task.Claim) error {
	s.released++
	if s.hung {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.Store.Release(ctx, c)
}

func (s *claimStore) Abandon(ctx context.Context, t task.Task) error {
	if s.hung {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.Store.Abandon(ctx, t)
}

// batchQueue fails SendBatch when fail is set.
type batchQueue struct {
	fakeQueue
	fail bool
}

func (q *batchQueue) SendBatch(ctx context.Context, bodies []string) ([]string, error) {
	if q.fail {
		return nil, errors.New("SendMessageBatch: 1 of 3 entries failed")
	}
	for _, b := range bodies {
		q.Send(ctx, b)
	}
	return slices.Repeat([]string{"m"}, len(bodies)), nil
}

func statuses(t *testing.T, s *memory.Store) map[task.Status]int {
	t.Helper()
	got := map[task.Status]int{}
	for _, id := range s.IDs() {
		tk, _ := s.Get(t.Context(), id)
		got[tk.Status]++
	}
	return got
}

// TestAcceptBatchRollsBackAndLeavesTheKey: a batch whose messages could
// not be queued is withdrawn, and its key was never claimed (a claim comes
// after the messages), so that the retry with it runs afresh.
func TestAcceptBatchRollsBackAndLeavesTheKey(t *testing.T) {
	t.Parallel()
	mem := memory.NewStore()
	store := &claimStore{Store: mem}
	q := &batchQueue{fail: true}
	s := &task.Submitter{Store: store, Queue: q, Now: clock(), AbandonTimeout: time.Second}
	req := task.Request{Numbers: []task.Number{"11", "12", "13"}, Batch: true, Key: "k1"}
	if _, err := s.Accept(t.Context(), req); !errors.Is(err, task.ErrUnavailable) {
		t.Fatalf("Accept = %v; want ErrUnavailable", err)
	}
	if got := statuses(t, mem); got[task.StatusFailure] != 3 || got[task.StatusPending] != 0 {
		t.Errorf("tasks after a failed batch: %v; want 3 FAILURE and none PENDING", got)
	}
	if store.released != 0 {
		t.Errorf("Release called %d times; want 0: the key is claimed only once the messages are queued", store.released)
	}
	// The retry with the same key runs afresh.
	q.fail = false
	rc, err := s.Accept(t.Context(), req)
	if err != nil || rc.Replayed || len(rc.TaskIDs) != 3 || len(q.sent) != 3 {
		t.Fatalf("retry = %+v, %v (%d sent); want 3 new tasks queued", rc, err, len(q.sent))
	}
	again, err := s.Accept(t.Context(), req)
	if err != nil || !again.Replayed || !slices.Equal(again.TaskIDs, rc.TaskIDs) || len(q.sent) != 3 {
		t.Errorf("second retry = %+v, %v; want a replay of %v, nothing queued", again, err, rc.TaskIDs)
	}
	if got := statuses(t, mem); got[task.StatusPending] != 3 || got[task.StatusFailure] != 3 {
		t.Errorf("tasks: %v; want 3 PENDING (the accepted batch) and 3 FAILURE (the failed one); a replay writes none", got)
	}
}

// racingStore is a memory store whose Holder never finds a claim, as when
// two requests with one key race: both write their tasks, and the claim
// decides.
type racingStore struct {
	*memory.Store
}

func (racingStore) Holder(context.Context, string, time.Time) (task.Claim, error) {
	return task.Claim{}, task.ErrNotFound
}

// TestAcceptReplay: a retry with the key of an accepted request gets its
// task ids. Found by Holder, it writes and queues nothing; when the claim
// decides (a race), the loser's own tasks are abandoned.
func TestAcceptReplay(t *testing.T) {
	t.Parallel()
	req := task.Request{Numbers: []task.Number{"11", "12", "13"}, Batch: true, Key: "k4"}
	for _, tc := range []struct {
		name         string
		store        func(*memory.Store) task.Creator
		wantFailures int
		wantSent     int
	}{
		{"Holder", func(m *memory.Store) task.Creator { return m }, 0, 3},
		// The loser's messages were queued before its claim lost; their
		// deliveries find its tasks final.
		{"Claim", func(m *memory.Store) task.Creator { return racingStore{m} }, 3, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mem := memory.NewStore()
			q := &batchQueue{}
			s := &task.Submitter{Store: tc.store(mem), Queue: q, Now: clock(), AbandonTimeout: time.Second}
			first, err := s.Accept(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			again, err := s.Accept(t.Context(), req)
			if err != nil || !again.Replayed || !slices.Equal(again.TaskIDs, first.TaskIDs) {
				t.Fatalf("retry = %+v, %v; want a replay of %v", again, err, first.TaskIDs)
			}
			if len(q.sent) != tc.wantSent {
				t.Errorf("%d messages sent; want %d", len(q.sent), tc.wantSent)
			}
			if got := statuses(t, mem); got[task.StatusPending] != 3 || got[task.StatusFailure] != tc.wantFailures {
				t.Errorf("tasks: %v; want 3 PENDING and %d FAILURE", got, tc.wantFailures)
			}
		})
	}
}

// lookupFailsStore is a memory store whose Holder fails with err.
type lookupFailsStore struct {
	*memory.Store
	err error
}

func (s lookupFailsStore) Holder(context.Context, string, time.Time) (task.Claim, error) {
	return task.Claim{}, s.err
}

func TestAcceptKeyLookupFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		want    error
		notWant error
	}{
		{"store down", errors.New("connection refused"), task.ErrUnavailable, nil},
		// No retry mends a damaged claim: not "unavailable".
		{"claim damaged", fmt.Errorf("decode claim k5: %w: checksum mismatch", task.ErrDamaged), task.ErrDamaged, task.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := memory.NewStore()
			q := &fakeQueue{}
			s := &task.Submitter{Store: lookupFailsStore{mem, tt.err}, Queue: q, Now: clock()}
			_, err := s.Accept(t.Context(), task.Request{Numbers: []task.Number{"11"}, Key: "k5"})
			if !errors.Is(err, tt.want) || tt.notWant != nil && errors.Is(err, tt.notWant) {
				t.Fatalf("Accept = %v; want %v, not %v", err, tt.want, tt.notWant)
			}
			if mem.Len() != 0 || len(q.sent) != 0 {
				t.Errorf("%d tasks written, %d messages sent; want none", mem.Len(), len(q.sent))
			}
		})
	}
}

func TestAcceptClaimLostAnswerReleases(t *testing.T) {
	t.Parallel()
	mem := memory.NewStore()
	store := &claimStore{Store: mem, claimErr: errors.New("connection reset")}
	s := &task.Submitter{Store: store, Queue: &fakeQueue{}, Now: clock(), AbandonTimeout: time.Second}
	req := task.Request{Numbers: []task.Number{"11"}, Key: "k2"}
	if _, err := s.Accept(t.Context(), req); !errors.Is(err, task.ErrUnavailable) {
		t.Fatalf("Accept = %v; want ErrUnavailable", err)
	}
	if got := statuses(t, mem); got[task.StatusPending] != 0 {
		t.Errorf("tasks: %v; want none PENDING", got)
	}
	store.claimErr = nil
	if rc, err := s.Accept(t.Context(), req); err != nil || rc.Replayed {
		t.Errorf("retry = %+v, %v; want a fresh accept (the lost claim was released)", rc, err)
	}
}

// TestAcceptKeyNeverNamesTasksThatDoNotRun: the store hangs after the
// tasks are written and the queue fails, so that nothing can be rolled
// back. The key was not claimed: the retry with it runs afresh, rather
// than answering tasks that have no message and would stay PENDING.
func TestAcceptKeyNeverNamesTasksThatDoNotRun(t *testing.T) {
	t.Parallel()
	mem := memory.NewStore()
	store := &claimStore{Store: mem, hung: true}
	q := &batchQueue{fail: true}
	s := &task.Submitter{Store: store, Queue: q, Now: clock(), AbandonTimeout: 100 * time.Millisecond, Logger: quietLogger()}
	req := task.Request{Numbers: []task.Number{"11", "12"}, Batch: true, Key: "k6"}
	if _, err := s.Accept(t.Context(), req); !errors.Is(err, task.ErrUnavailable) {
		t.Fatalf("Accept = %v; want ErrUnavailable", err)
	}
	store.hung, q.fail = false, false
	rc, err := s.Accept(t.Context(), req)
	if err != nil || rc.Replayed || len(q.sent) != 2 {
		t.Fatalf("retry = %+v, %v (%d sent); want 2 new tasks, queued", rc, err, len(q.sent))
	}
}

// TestAcceptClaimUnreleasedNamesTasksThatRun: the claim's answer is lost
// and the store then hangs, so that the claim can be neither confirmed
// nor released. Its tasks, whose messages are queued, are left PENDING to
// run, and the retry with the key answers them.
func TestAcceptClaimUnreleasedNamesTasksThatRun(t *testing.T) {
	t.Parallel()
	mem := memory.NewStore()
	store := &claimStore{Store: mem, claimErr: errors.New("i/o timeout"), hung: true}
	q := &fakeQueue{}
	s := &task.Submitter{Store: store, Queue: q, Now: clock(), AbandonTimeout: 100 * time.Millisecond, Logger: quietLogger()}
	req := task.Request{Numbers: []task.Number{"11"}, Key: "k7"}
	if _, err := s.Accept(t.Context(), req); !errors.Is(err, task.ErrUnavailable) {
		t.Fatalf("Accept = %v; want ErrUnavailable", err)
	}
	if got := statuses(t, mem); got[task.StatusPending] != 1 || len(q.sent) != 1 {
		t.Fatalf("tasks: %v, %d messages; want the task PENDING with its message queued", got, len(q.sent))
	}
	store.claimErr, store.hung = nil, false
	rc, err := s.Accept(t.Context(), req)
	if err != nil || !rc.Replayed || len(rc.TaskIDs) != 1 {
		t.Fatalf("retry = %+v, %v; want a replay of the first request's task", rc, err)
	}
	if m, err := task.DecodeMessage(q.sent[0]); err != nil || m.TaskID != rc.TaskIDs[0] {
		t.Errorf("queued %q; want the message of the replayed task %s", q.sent[0], rc.TaskIDs[0])
	}
}

func TestAcceptKeyReused(t *testing.T) {
	t.Parallel()
	s := &task.Submitter{Store: memory.NewStore(), Queue: &fakeQueue{}, Now: clock()}
	if _, err := s.Accept(t.Context(), task.Request{Numbers: []task.Number{"11"}, Key: "k3"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []task.Request{
		{Numbers: []task.Number{"13"}, Key: "k3"},
		{Numbers: []task.Number{"11"}, Batch: true, Key: "k3"},
	} {
		if _, err := s.Accept(t.Context(), r); !errors.Is(err, task.ErrKeyReused) {
			t.Errorf("Accept(%+v) = %v; want ErrKeyReused", r, err)
		}
	}
}

func TestValidKey(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"a", "order-42", "3f2b8c1e-7d4a-4e59-9b1c-2a6f0e8d4c71", "b64+/=", strings.Repeat("x", task.MaxKeyLength)} {
		if err := task.ValidKey(k); err != nil {
			t.Errorf("ValidKey(%q) = %v; want nil", k, err)
		}
	}
	for _, k := range []string{"", " ", "a b", "é", "a\x00", "a;b", strings.Repeat("x", task.MaxKeyLength+1)} {
		if err := task.ValidKey(k); err == nil {
			t.Errorf("ValidKey(%.20q) = nil; want an error", k)
		}
	}
}
