// fakeAPI is an in-memory fake of the asyncprime HTTP API for
// testing the load generator: POST / accepts {"number": N} and answers 202
// with a task id, GET /{task_id} answers PENDING, then STARTED, then the
// final state after a set number of polls. It can inject 503s, wrong
// answers, and the faults a verification pass must catch (forgotten tasks,
// results that change, ids handed out twice), and it counts what it served
// so tests can compare.

package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/asyncprime/asyncprime/internal/task"
)

// fakeAPI is the fake API. Set its fields before serving; the zero value
// completes every task on the first poll and never injects errors.
type fakeAPI struct {
	// PollsToComplete is how many status requests a task takes to reach its
	// final state: the first answers PENDING, the following ones STARTED,
	// and the PollsToComplete-th the final state. 0 is taken as 1; a
	// negative value means never.
	PollsToComplete int
	// SubmitFailEvery and StatusFailEvery, when positive, make every n-th
	// submit or status request fail with 503 before it has any effect.
	SubmitFailEvery int
	StatusFailEvery int
	// WrongPrime inverts every is_prime answer.
	WrongPrime bool
	// Fail, when not nil, says which numbers end in FAILURE.
	Fail func(number int64) bool
	// ForgetEvery, when positive, makes the server forget every n-th task
	// it creates as soon as it has served its final state: later reads
	// answer 404, as if the record had been lost.
	ForgetEvery int
	// FlipEvery, when positive, makes every n-th task it creates answer
	// the opposite is_prime on every read after the one that first served
	// its final state: a result that changes once final. FAILURE tasks are
	// unaffected.
	FlipEvery int
	// DuplicateIDEvery, when positive, makes every n-th accepted submit
	// answer 202 with the id of the task created last instead of creating
	// one.
	DuplicateIDEvery int

	mu      sync.Mutex
	tasks   map[string]*fakeTask
	created int       // tasks created, the sequence number of the last one
	last    *fakeTask // the task created last
	counts  fakeCounts
}

// fakeCounts is what the server has seen and served.
type fakeCounts struct {
	Submits        int // submit requests, including the ones answered 503
	Accepted       int // submits answered 202
	StatusRequests int // status requests, including the ones answered 503
	Submit503      int
	Status503      int
	NotFound       int
	// Forgotten counts the tasks forgotten after their final state,
	// Flipped the reads answered with a flipped is_prime, and
	// DuplicateIDs the submits answered with an id already handed out.
	Forgotten    int
	Flipped      int
	DuplicateIDs int
	// Active is the number of accepted tasks whose final state has not yet
	// been served; MaxActive its high-water mark.
	Active    int
	MaxActive int
}

type fakeTask struct {
	id        string
	seq       int // 1 for the first task created
	number    int64
	polls     int
	done      bool // the final state has been served
	createdAt time.Time
	startedAt time.Time
}

// fakeCounts returns a snapshot of the counters.
func (s *fakeAPI) Counts() fakeCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// ServeHTTP routes POST / to submit and GET /{task_id} to status.
func (s *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/")
	switch {
	case id == "" && r.Method == http.MethodPost:
		s.submit(w, r)
	case id != "" && !strings.Contains(id, "/") && r.Method == http.MethodGet:
		s.status(w, id)
	default:
		fakeWriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
	}
}

func (s *fakeAPI) submit(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.Submits++
	if unavailable(w, s.counts.Submits, s.SubmitFailEvery, &s.counts.Submit503) {
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		fakeWriteJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "Content-Type must be application/json"})
		return
	}
	var body struct {
		Number *int64 `json:"number"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body); err != nil || body.Number == nil {
		fakeWriteJSON(w, http.StatusBadRequest, map[string]string{"error": `body must be {"number": N}`})
		return
	}
	if s.tasks == nil {
		s.tasks = map[string]*fakeTask{}
	}
	s.counts.Accepted++
	t := s.last
	if s.DuplicateIDEvery > 0 && s.counts.Accepted%s.DuplicateIDEvery == 0 && t != nil {
		s.counts.DuplicateIDs++
	} else {
		s.created++
		t = &fakeTask{id: task.NewID(), seq: s.created, number: *body.Number, createdAt: time.Now().UTC()}
		s.tasks[t.id] = t
		s.last = t
		s.counts.Active++
		s.counts.MaxActive = max(s.counts.MaxActive, s.counts.Active)
	}
	w.Header().Set("Location", "/"+t.id)
	fakeWriteJSON(w, http.StatusAccepted, map[string]string{"status": "success", "task_id": t.id})
}

func (s *fakeAPI) status(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.StatusRequests++
	if unavailable(w, s.counts.StatusRequests, s.StatusFailEvery, &s.counts.Status503) {
		return
	}
	t, ok := s.tasks[id]
	if !ok {
		s.counts.NotFound++
		fakeWriteJSON(w, http.StatusNotFound, map[string]string{"error": "fakeTask not found"})
		return
	}
	t.polls++
	resp := map[string]any{"task_id": t.id, "created_at": t.createdAt, "result": nil}
	need := max(s.PollsToComplete, 1)
	switch {
	case s.PollsToComplete < 0 || t.polls < need:
		resp["status"] = "PENDING"
		if t.polls > 1 {
			resp["status"] = "STARTED"
			if t.startedAt.IsZero() {
				t.startedAt = time.Now().UTC()
			}
			resp["started_at"] = t.startedAt
		}
	default:
		servedBefore := t.done
		if !t.done {
			t.done = true
			s.counts.Active--
		}
		if fakeEvery(s.ForgetEvery, t.seq) {
			delete(s.tasks, t.id)
			s.counts.Forgotten++
		}
		resp["finished_at"] = time.Now().UTC()
		if s.Fail != nil && s.Fail(t.number) {
			resp["status"] = "FAILURE"
			resp["error"] = fmt.Sprintf("cannot check %d", t.number)
			break
		}
		prime := fakeIsPrime(t.number) != s.WrongPrime
		if servedBefore && fakeEvery(s.FlipEvery, t.seq) {
			prime = !prime
			s.counts.Flipped++
		}
		resp["status"] = "SUCCESS"
		resp["result"] = map[string]any{"number": t.number, "is_prime": prime}
	}
	fakeWriteJSON(w, http.StatusOK, resp)
}

// every reports whether seq is a positive multiple of n > 0.
func fakeEvery(n, seq int) bool { return n > 0 && seq%n == 0 }

// unavailable answers 503 to the seq-th request if it is an every-th one,
// counting it in served, and reports whether it did.
func unavailable(w http.ResponseWriter, seq, every int, served *int) bool {
	if !fakeEvery(every, seq) {
		return false
	}
	*served++
	fakeWriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "backend unavailable"})
	return true
}

// isPrime is trial division, independent of the math/big check the load
// generator uses.
func fakeIsPrime(n int64) bool {
	if n < 2 {
		return false
	}
	if n%2 == 0 {
		return n == 2
	}
	for d := int64(3); d <= n/d; d += 2 {
		if n%d == 0 {
			return false
		}
	}
	return true
}

func fakeWriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
