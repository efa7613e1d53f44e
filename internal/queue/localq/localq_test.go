package localq

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/asyncprime/asyncprime/internal/testkit"
)

func TestRecordAndReceiptHandle(t *testing.T) {
	t.Parallel()
	sent := time.UnixMilli(1795521600000)
	r := Record(Msg{ID: "m1", Body: "b", MD5: "x", Receives: 3, Sent: sent, FirstReceive: sent.Add(time.Second)}, ARN("tasks"))
	if r.Attributes["ApproximateReceiveCount"] != "3" || r.Attributes["SentTimestamp"] != "1795521600000" ||
		r.Attributes["ApproximateFirstReceiveTimestamp"] != "1795521601000" || r.EventSource != "aws:sqs" ||
		r.EventSourceARN != "arn:aws:sqs:local:000000000000:tasks" {
		t.Errorf("Record = %+v; want SQS attributes and source", r)
	}
	id, err := MessageID(r.ReceiptHandle)
	if err != nil || id != "m1" {
		t.Errorf("MessageID(%q) = %q, %v; want m1", r.ReceiptHandle, id, err)
	}
	if _, err := MessageID("no-separator"); err == nil {
		t.Error("MessageID of a malformed handle = nil error; want one")
	}
}

func TestInflightPopsInVisibilityOrder(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	var f Inflight[string]
	f.Push("late", 1, t0.Add(3*time.Second))
	f.Push("early", 2, t0.Add(time.Second))
	f.Push("middle", 1, t0.Add(2*time.Second))
	if got := f.Next(); !got.Equal(t0.Add(time.Second)) {
		t.Errorf("Next = %v; want the earliest", got)
	}
	if _, _, ok := f.PopDue(t0); ok {
		t.Error("PopDue before anything is due = ok; want nothing")
	}
	var order []string
	for {
		v, _, ok := f.PopDue(t0.Add(time.Hour))
		if !ok {
			break
		}
		order = append(order, v)
	}
	if len(order) != 3 || order[0] != "early" || order[1] != "middle" || order[2] != "late" {
		t.Errorf("order = %v; want early, middle, late", order)
	}
}

func TestReceiveStopsOnContext(t *testing.T) {
	t.Parallel()
	q := New(Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := q.Receive(ctx, 1, time.Hour); err == nil {
		t.Error("Receive with a cancelled context = nil error; want one")
	}
	if _, err := q.Receive(t.Context(), 11, 0); err == nil {
		t.Error("Receive(max=11) = nil error; want one")
	}
}

// journal records what a Queue writes, and fails the waited writes while
// failing is set.
type journal struct {
	mu      sync.Mutex
	writes  []string // "put tasks 1 (wait)", ...
	failing bool
	done    chan struct{}
}

func (j *journal) Write(_ context.Context, wait bool, changes []Change) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if wait && j.failing {
		return errors.New("disk full")
	}
	for _, c := range changes {
		w := fmt.Sprintf("%s %s %d r%d", [...]string{"put", "update", "delete"}[c.Kind], c.Queue, c.Msg.Seq, c.Msg.Receives)
		if wait {
			w += " (wait)"
		}
		j.writes = append(j.writes, w)
	}
	return nil
}

func (j *journal) Done() <-chan struct{} { return j.done }
func (j *journal) Err() error            { return errors.New("closed") }

// TestJournal: every change reaches the journal in order, a dead letter's
// move before the message is in the dead-letter queue; a write that fails
// makes nothing visible; once the journal is done, calls fail.
func TestJournal(t *testing.T) {
	t.Parallel()
	j := &journal{done: make(chan struct{})}
	clock := testkit.NewClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	dlq := New(Options{Name: "dlq", Journal: j, Now: clock.Now})
	q := New(Options{Name: "q", DeadLetter: dlq, MaxReceiveCount: 1, VisibilityTimeout: time.Second, Journal: j, Now: clock.Now})
	ctx := t.Context()
	if _, err := q.Send(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	got, err := q.Receive(ctx, 1, 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("Receive = %v, %v; want a", got, err)
	}
	// Visible again; its next receive moves it to the DLQ.
	clock.Advance(time.Second)
	if got, err := q.Receive(ctx, 1, 0); err != nil || len(got) != 0 {
		t.Fatalf("Receive = %v, %v; want nothing (a dead-lettered)", got, err)
	}
	dead, err := dlq.Receive(ctx, 1, 0)
	if err != nil || len(dead) != 1 {
		t.Fatalf("DLQ Receive = %v, %v; want a", dead, err)
	}
	if err := dlq.Delete(ctx, dead[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	want := []string{"put q 1 r0 (wait)", "update q 1 r1", "delete q 1 r1", "put dlq 1 r0", "update dlq 1 r1", "delete dlq 1 r1"}
	if !slices.Equal(j.writes, want) {
		t.Errorf("journal %q;\nwant %q", j.writes, want)
	}

	j.failing = true
	if _, err := q.SendBatch(ctx, []string{"b", "c"}); err == nil {
		t.Error("SendBatch with a failing journal = nil error; want one")
	}
	if q.Len() != 0 {
		t.Errorf("after a failed write the queue holds %d; want 0", q.Len())
	}
	close(j.done)
	if _, err := q.Receive(ctx, 1, time.Hour); err == nil {
		t.Error("Receive once the journal is done = nil error; want one")
	}
}

// TestLongPollsWakeOnePerMessage: a message wakes one waiting poll, not
// all of them, and a poll woken just as it gives up hands the message on
// instead of leaving it visible while the others sleep.
func TestLongPollsWakeOnePerMessage(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		q := New(Options{})
		type result struct {
			n   int
			err error
		}
		poll := func(ctx context.Context, out chan<- result) {
			got, err := q.Receive(ctx, 10, time.Minute)
			out <- result{len(got), err}
		}
		results := make(chan result, 4)
		for range 3 {
			go poll(t.Context(), results)
		}
		synctest.Wait()
		// Added with q.mu held, so that no poll can take the lock and join
		// the list again before it is counted.
		a := q.Prepare("a")
		q.mu.Lock()
		q.addLocked(&message{Msg: a})
		stillWaiting := len(q.waiting)
		q.mu.Unlock()
		if stillWaiting != 2 {
			t.Fatalf("%d of 3 polls left waiting by one message; want 2: one woken, not all", stillWaiting)
		}
		synctest.Wait()
		if len(results) != 1 {
			t.Fatalf("%d of 3 waiting polls returned after one Send; want 1", len(results))
		}
		if r := <-results; r.n != 1 || r.err != nil {
			t.Fatalf("the woken poll got %d messages, %v; want 1, nil", r.n, r.err)
		}

		// Two polls wait. The older one is cancelled at the moment a
		// message wakes it: either it takes the message anyway, or the
		// other poll must.
		q.mu.Lock()
		waiting := len(q.waiting)
		q.mu.Unlock()
		if waiting != 2 {
			t.Fatalf("%d polls waiting; want the 2 not woken", waiting)
		}
		ctx, cancel := context.WithCancel(t.Context())
		go poll(ctx, results) // third in line
		synctest.Wait()
		m := q.Prepare("b")
		q.mu.Lock()
		q.waiting[0], q.waiting[2] = q.waiting[2], q.waiting[0] // the cancelled one first
		cancel()
		q.addLocked(&message{Msg: m})
		q.mu.Unlock()
		synctest.Wait()
		received, cancelled := 0, 0
		for len(results) > 0 {
			r := <-results
			received += r.n
			if r.err != nil {
				cancelled++
			}
		}
		if received != 1 {
			t.Errorf("polls received %d messages after a woken poll was cancelled; want the 1 handed on (cancelled polls: %d)", received, cancelled)
		}
	})
}
