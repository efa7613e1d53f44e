package console

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/asyncprime/asyncprime/internal/metrics"
	"github.com/asyncprime/asyncprime/internal/task"
)

// Window is how far back the rate series go, in RateInterval steps.
const (
	RateInterval = time.Second
	RatePoints   = 300
	recentRows   = 20
	failureRows  = 10
)

// Counters keeps what the console shows "since start": totals of each
// transition this process made, the tasks it saw by state, submissions and
// completions per second over the last RatePoints seconds, and the recent
// tasks and failures. It is a metrics.Observer; the zero value is not
// usable, call NewCounters.
type Counters struct {
	now   func() time.Time
	start time.Time

	mu     sync.Mutex
	totals Totals
	open   map[string]openTask // tasks seen PENDING or STARTED
	rates  [RatePoints]ratePoint
	head   int64 // the second of rates[head%RatePoints]
	recent []TaskRow
	fails  []TaskRow
}

type ratePoint struct{ submitted, completed int }

// openTask is a task seen PENDING or STARTED, with what its events told
// of it: the event of its result may know only its id (a number of up to
// 64 bits goes from PENDING to its result with no start, and a settler
// records the FAILURE of a dead-lettered task from its id).
type openTask struct {
	status  task.Status
	number  string
	digits  int
	created time.Time
}

// Totals are counts since the process started.
type Totals struct {
	Submitted int64 `json:"submitted"`
	// Started counts every start, redeliveries included.
	Started   int64 `json:"started"`
	Succeeded int64 `json:"succeeded"`
	// Failed counts FAILURE results, including submits whose message could
	// not be queued.
	Failed  int64 `json:"failed"`
	Retried int64 `json:"retried"`
	// Revoked counts tasks a client cancelled (DELETE /{task_id}).
	Revoked int64 `json:"revoked"`
	// Pending and Running are the tasks this process submitted (or
	// retried) that are still waiting for, or in, a worker.
	Pending int64 `json:"pending"`
	Running int64 `json:"running"`
}

// TaskRow is a task as the console lists it.
type TaskRow struct {
	TaskID   string      `json:"task_id"`
	Number   string      `json:"number"` // an excerpt of a long number
	Digits   int         `json:"digits"`
	Status   task.Status `json:"status"`
	IsPrime  *bool       `json:"is_prime"`
	Attempts int         `json:"attempts"`
	Error    string      `json:"error,omitempty"`
	// Updated is when the console last saw the task change.
	Updated time.Time `json:"updated_at"`
	// TimeToResult is from submission to the final result, in seconds.
	TimeToResult *float64 `json:"time_to_result_seconds"`

	created, finished time.Time // of the task, when its event said
	// asked is set once the store was asked for the number of a row no
	// event told it (see Console.nameTasks).
	asked bool
}

// NewCounters returns counters starting now. now is time.Now if nil.
func NewCounters(now func() time.Time) *Counters {
	if now == nil {
		now = time.Now
	}
	t := now()
	return &Counters{now: now, start: t, open: make(map[string]openTask), head: t.Unix()}
}

var _ metrics.Observer = (*Counters)(nil)

// Observe implements metrics.Observer.
func (c *Counters) Observe(_ context.Context, e metrics.Event) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.point(now)
	r := c.complete(row(e.Task, now))
	switch e.Kind {
	case metrics.Submitted, metrics.Retried:
		if e.Kind == metrics.Submitted {
			c.totals.Submitted++
			p.submitted++
		} else {
			c.totals.Retried++
		}
		c.move(r, task.StatusPending)
	case metrics.Started:
		c.totals.Started++
		if _, seen := c.open[r.TaskID]; seen {
			c.move(r, task.StatusStarted)
		}
	case metrics.Finished, metrics.Abandoned:
		if e.Task.Status == task.StatusSuccess {
			c.totals.Succeeded++
		} else {
			c.totals.Failed++
		}
		if e.Kind == metrics.Finished {
			p.completed++
		}
		c.move(r, "")
	case metrics.Revoked:
		c.totals.Revoked++
		c.move(r, "")
	}
	c.remember(r)
}

// move records that task r is now in state s ("" once final), with what
// is known of it.
func (c *Counters) move(r TaskRow, s task.Status) {
	switch c.open[r.TaskID].status {
	case task.StatusPending:
		c.totals.Pending--
	case task.StatusStarted:
		c.totals.Running--
	}
	switch s {
	case task.StatusPending:
		c.totals.Pending++
	case task.StatusStarted:
		c.totals.Running++
	}
	if s == "" {
		delete(c.open, r.TaskID)
	} else {
		c.open[r.TaskID] = openTask{status: s, number: r.Number, digits: r.Digits, created: r.created}
	}
}

// point returns the rate point of now's second, zeroing those skipped.
// The caller holds c.mu.
func (c *Counters) point(now time.Time) *ratePoint {
	sec := now.Unix()
	if sec > c.head {
		for s := c.head + 1; s <= sec && s <= c.head+RatePoints; s++ {
			c.rates[s%RatePoints] = ratePoint{}
		}
		c.head = sec
	}
	if sec <= c.head-RatePoints {
		return &ratePoint{} // too old to show
	}
	return &c.rates[sec%RatePoints]
}

// complete fills in what r, the row of an event, does not know of its
// task, from what the task's earlier events told: kept while the task is
// open, and in its rows listed. The caller holds c.mu.
func (c *Counters) complete(r TaskRow) TaskRow {
	if o, ok := c.open[r.TaskID]; ok {
		r = completeFrom(r, TaskRow{Number: o.number, Digits: o.digits, created: o.created})
	}
	id := r.TaskID
	for _, rows := range [][]TaskRow{c.recent, c.fails} {
		if i := slices.IndexFunc(rows, func(old TaskRow) bool { return old.TaskID == id }); i >= 0 {
			r = completeFrom(r, rows[i])
		}
	}
	return timed(r)
}

// completeFrom fills in what r does not know of its task from old, an
// earlier row of it.
func completeFrom(r, old TaskRow) TaskRow {
	if r.Number == "" { // an event that knew only the id
		r.Number, r.Digits, r.asked = old.Number, old.Digits, old.asked
		r.Attempts = max(r.Attempts, old.Attempts)
	}
	if r.created.IsZero() { // a result written without a start: the submit knew
		r.created = old.created
	}
	return r
}

// remember puts r first among the recent tasks, and among the failures if
// it failed. A failure leaves the failures when its task changes again (it
// was retried): the failures are the tasks that are FAILURE, for an
// operator to act on. The caller holds c.mu.
func (c *Counters) remember(r TaskRow) {
	c.recent = upsert(c.recent, r, recentRows)
	if r.Status == task.StatusFailure {
		c.fails = upsert(c.fails, r, failureRows)
	} else {
		c.fails = slices.DeleteFunc(c.fails, func(old TaskRow) bool { return old.TaskID == r.TaskID })
	}
}

// timed sets r's time to result when it is final and that is known.
func timed(r TaskRow) TaskRow {
	if r.TimeToResult == nil && r.Status.Final() && !r.created.IsZero() && !r.finished.IsZero() {
		s := r.finished.Sub(r.created).Seconds()
		r.TimeToResult = &s
	}
	return r
}

// upsert puts r first in rows, removing its older entry, keeping at most
// limit rows; it reuses rows' array, so that the hot path does not allocate.
func upsert(rows []TaskRow, r TaskRow, limit int) []TaskRow {
	at := slices.IndexFunc(rows, func(old TaskRow) bool { return old.TaskID == r.TaskID })
	if at < 0 { // the shift ends at the end
		at = len(rows)
		if len(rows) < limit {
			rows = append(rows, TaskRow{})
		} else {
			at = len(rows) - 1
		}
	}
	copy(rows[1:at+1], rows[:at])
	rows[0] = r
	return rows
}

// unnamed returns the ids of the tasks listed whose number no event told
// and the store was not asked for yet.
func (c *Counters) unnamed() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []string
	for _, rows := range [][]TaskRow{c.recent, c.fails} {
		for _, r := range rows {
			if r.Number == "" && !r.asked && !slices.Contains(ids, r.TaskID) {
				ids = append(ids, r.TaskID)
			}
		}
	}
	return ids
}

// learn fills in the rows of task id from t, its record in the store (ok
// false when the store has none): its number, its submission, and so its
// time to result.
func (c *Counters) learn(id string, t task.Task, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rows := range [][]TaskRow{c.recent, c.fails} {
		for i, r := range rows {
			if r.TaskID != id || r.Number != "" {
				continue
			}
			r.asked = true
			if ok {
				r.Number, r.Digits = numberExcerpt(string(t.Number)), digits(string(t.Number))
				r.Attempts = max(r.Attempts, t.Attempts)
				if r.created.IsZero() {
					r.created = t.CreatedAt
				}
				r = timed(r)
			}
			rows[i] = r
		}
	}
}

func row(t task.Task, now time.Time) TaskRow {
	r := TaskRow{TaskID: t.ID, Number: numberExcerpt(string(t.Number)), Digits: digits(string(t.Number)), Status: t.Status, Attempts: t.Attempts, Error: t.Error, Updated: now,
		created: t.CreatedAt, finished: t.FinishedAt}
	if t.Status == task.StatusSuccess {
		p := t.IsPrime
		r.IsPrime = &p
	}
	return r
}

// numberExcerpt shortens a long number to its first and last digits.
func numberExcerpt(n string) string {
	if len(n) <= 24 {
		return n
	}
	return n[:12] + "…" + n[len(n)-6:]
}

func digits(n string) int {
	if len(n) > 0 && n[0] == '-' {
		return len(n) - 1
	}
	return len(n)
}

// Rates are per-interval counts, oldest first, the last ending at End.
type Rates struct {
	IntervalSeconds float64   `json:"interval_seconds"`
	End             time.Time `json:"end"`
	Submitted       []int     `json:"submitted"`
	Completed       []int     `json:"completed"`
}

// Snapshot is a copy of the counters at one moment.
type Snapshot struct {
	Since    time.Time `json:"since"`
	Totals   Totals    `json:"totals"`
	Rates    Rates     `json:"rates"`
	Recent   []TaskRow `json:"recent"`
	Failures []TaskRow `json:"failures"`
}

// Snapshot returns the counters now.
func (c *Counters) Snapshot() Snapshot {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.point(now)
	s := Snapshot{
		Since:    c.start,
		Totals:   c.totals,
		Rates:    Rates{IntervalSeconds: RateInterval.Seconds(), End: time.Unix(c.head+1, 0).UTC(), Submitted: make([]int, RatePoints), Completed: make([]int, RatePoints)},
		Recent:   append([]TaskRow{}, c.recent...),
		Failures: append([]TaskRow{}, c.fails...),
	}
	for i := range RatePoints {
		p := c.rates[(c.head+1+int64(i))%RatePoints]
		s.Rates.Submitted[i], s.Rates.Completed[i] = p.submitted, p.completed
	}
	return s
}
