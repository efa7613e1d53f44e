package console

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/metrics"
	"github.com/asyncprime/asyncprime/internal/task"
)

func TestUpsert(t *testing.T) { // not parallel: AllocsPerRun
	ids := func(rows []TaskRow) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.TaskID)
		}
		return out
	}
	var rows []TaskRow
	for i := range 5 {
		rows = upsert(rows, TaskRow{TaskID: fmt.Sprint(i), Number: "n"}, 3)
	}
	if got := ids(rows); !slices.Equal(got, []string{"4", "3", "2"}) {
		t.Fatalf("after 5 inserts with limit 3: %v; want [4 3 2]", got)
	}
	rows = upsert(rows, TaskRow{TaskID: "2"}, 3)
	if got := ids(rows); !slices.Equal(got, []string{"2", "4", "3"}) {
		t.Errorf("after updating 2: %v; want [2 4 3]", got)
	}
	rows = upsert(rows, TaskRow{TaskID: "3"}, 3)
	if got := ids(rows); !slices.Equal(got, []string{"3", "2", "4"}) {
		t.Errorf("after updating the last: %v; want [3 2 4]", got)
	}
	if allocs := testing.AllocsPerRun(100, func() { rows = upsert(rows, TaskRow{TaskID: "x"}, 3) }); allocs != 0 {
		t.Errorf("upsert allocates %v times at the limit; want 0", allocs)
	}
}

// observe tells c of an event of kind about t.
func observe(t *testing.T, c *Counters, kind metrics.Kind, tk task.Task) {
	t.Helper()
	c.Observe(t.Context(), metrics.Event{Kind: kind, Task: tk})
}

// deadLettered is the event of a settler recording the FAILURE of a task
// whose message was dead-lettered: it knows only the id and the outcome.
func deadLettered(id string, at time.Time) task.Task {
	return task.Apply(task.Task{ID: id}, task.Outcome{Status: task.StatusFailure, Error: "the task's message was dead-lettered", FinishedAt: at})
}

// TestCountersKeepNumbers: a row whose event knows only the task's id
// shows the number an earlier event told, in the recent tasks and the
// failures alike, even when more tasks than the lists hold fail at once
// (a settle round) and their earlier rows are no longer listed.
func TestCountersKeepNumbers(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		tasks int
		kind  metrics.Kind // of the event that told the number
	}{
		{"one submitted", 1, metrics.Submitted},
		{"more than the recent rows, submitted", recentRows + 5, metrics.Submitted},
		{"more than the recent rows, redriven", recentRows + 5, metrics.Retried},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewCounters(func() time.Time { return t0 })
			numbers := map[string]string{}
			var ids []string
			for i := range tt.tasks {
				id := task.NewID()
				ids = append(ids, id)
				numbers[id] = fmt.Sprint(1000 + i)
				observe(t, c, tt.kind, task.Task{ID: id, Status: task.StatusPending, Number: task.Number(numbers[id]), CreatedAt: t0})
			}
			for _, id := range ids {
				observe(t, c, metrics.Finished, deadLettered(id, t0.Add(time.Second)))
			}
			s := c.Snapshot()
			if len(s.Recent) != min(tt.tasks, recentRows) || len(s.Failures) != min(tt.tasks, failureRows) {
				t.Fatalf("%d recent and %d failures; want %d and %d", len(s.Recent), len(s.Failures), min(tt.tasks, recentRows), min(tt.tasks, failureRows))
			}
			for _, r := range slices.Concat(s.Recent, s.Failures) {
				if r.Number != numbers[r.TaskID] || r.Digits != 4 || r.TimeToResult == nil || *r.TimeToResult != 1 {
					t.Errorf("row %+v; want number %s of 4 digits, 1 s to result", r, numbers[r.TaskID])
				}
			}
			if ids := c.unnamed(); len(ids) != 0 {
				t.Errorf("unnamed() = %v; want none", ids)
			}
		})
	}
}

// TestCountersLearnNumbers: a task this process never saw submitted (it
// was, before a restart) finishes with an event that knows only its id;
// its rows are listed as unnamed until the store is asked, then show what
// the store said; a task the store does not have is asked for once.
func TestCountersLearnNumbers(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewCounters(func() time.Time { return t0 })
	known, gone := task.NewID(), task.NewID()
	observe(t, c, metrics.Finished, deadLettered(known, t0.Add(3*time.Second)))
	observe(t, c, metrics.Finished, deadLettered(gone, t0.Add(3*time.Second)))
	if got := c.unnamed(); !slices.Equal(got, []string{gone, known}) {
		t.Fatalf("unnamed() = %v; want [%s %s]", got, gone, known)
	}
	c.learn(known, task.Task{ID: known, Number: "4242", Attempts: 2, CreatedAt: t0}, true)
	c.learn(gone, task.Task{}, false)
	if got := c.unnamed(); len(got) != 0 {
		t.Errorf("unnamed() after learning = %v; want none", got)
	}
	s := c.Snapshot()
	for _, r := range slices.Concat(s.Recent, s.Failures) {
		switch {
		case r.TaskID == gone && r.Number != "":
			t.Errorf("row %+v of a task the store does not have; want no number", r)
		case r.TaskID == known && (r.Number != "4242" || r.Attempts != 2 || r.TimeToResult == nil || *r.TimeToResult != 3):
			t.Errorf("row %+v; want number 4242, 2 attempts, 3 s to result", r)
		}
	}
	// A later event that knows only the id keeps what was learnt, and is
	// not asked for again.
	observe(t, c, metrics.Finished, deadLettered(gone, t0.Add(4*time.Second)))
	observe(t, c, metrics.Finished, deadLettered(known, t0.Add(4*time.Second)))
	if r := c.Snapshot().Recent[0]; r.TaskID != known || r.Number != "4242" {
		t.Errorf("row after another event: %+v; want number 4242 kept", r)
	}
	if got := c.unnamed(); len(got) != 0 {
		t.Errorf("unnamed() after another event = %v; want none", got)
	}
}

// TestCountersRetriedLeaveFailures: a failure retried leaves the failures,
// which list the tasks an operator may retry, and is listed again if it
// fails again.
func TestCountersRetriedLeaveFailures(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewCounters(func() time.Time { return t0 })
	id, other := task.NewID(), task.NewID()
	for _, i := range []string{id, other} {
		observe(t, c, metrics.Submitted, task.Task{ID: i, Status: task.StatusPending, Number: "4242", CreatedAt: t0})
		observe(t, c, metrics.Finished, deadLettered(i, t0))
	}
	failures := func() []string {
		var ids []string
		for _, r := range c.Snapshot().Failures {
			ids = append(ids, r.TaskID)
		}
		return ids
	}
	observe(t, c, metrics.Retried, task.Task{ID: id, Status: task.StatusPending, Number: "4242", CreatedAt: t0})
	if got := failures(); !slices.Equal(got, []string{other}) {
		t.Errorf("failures after a retry: %v; want [%s]", got, other)
	}
	observe(t, c, metrics.Finished, deadLettered(id, t0))
	if got := failures(); !slices.Equal(got, []string{id, other}) {
		t.Errorf("failures after failing again: %v; want [%s %s]", got, id, other)
	}
}

func TestHostAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host string
		want bool
	}{
		{"127.0.0.1:8000", true},
		{"[::1]:8000", true},
		{"localhost:8000", true},
		{"localhost", true},
		{"console.localhost", true},
		{"192.168.1.20:8000", true},
		{"evil.example:8000", false},
		{"localhost.evil.example", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := hostAllowed(tt.host); got != tt.want {
			t.Errorf("hostAllowed(%q) = %v; want %v", tt.host, got, tt.want)
		}
	}
}
