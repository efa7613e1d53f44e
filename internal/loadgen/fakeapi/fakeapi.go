// Package fakeapi is an in-memory fake of the asyncprime HTTP API for
// testing the load generator: POST / accepts {"number": N} and answers 202
// with a task id, GET /{task_id} answers PENDING, then STARTED, then the
// final state after a set number of polls. It can inject 503s and wrong
// answers, and it counts what it served so tests can compare.
package fakeapi

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Server is the fake API. Set its fields before serving; the zero value
// completes every task on the first poll and never injects errors.
type Server struct {
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

	mu     sync.Mutex
	tasks  map[string]*task
	counts Counts
}

// Counts is what the server has seen and served.
type Counts struct {
	Submits        int // submit requests, including the ones answered 503
	Accepted       int // submits answered 202
	StatusRequests int // status requests, including the ones answered 503
	Submit503      int
	Status503      int
	NotFound       int
	// Active is the number of accepted tasks whose final state has not yet
	// been served; MaxActive its high-water mark.
	Active    int
	MaxActive int
}

type task struct {
	id        string
	number    int64
	polls     int
	done      bool // the final state has been served
	createdAt time.Time
	startedAt time.Time
}

// Counts returns a snapshot of the counters.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// ServeHTTP routes POST / to submit and GET /{task_id} to status.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/")
	switch {
	case id == "" && r.Method == http.MethodPost:
		s.submit(w, r)
	case id != "" && !strings.Contains(id, "/") && r.Method == http.MethodGet:
		s.status(w, id)
	default:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
	}
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.Submits++
	if s.SubmitFailEvery > 0 && s.counts.Submits%s.SubmitFailEvery == 0 {
		s.counts.Submit503++
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "backend unavailable"})
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "Content-Type must be application/json"})
		return
	}
	var body struct {
		Number *int64 `json:"number"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body); err != nil || body.Number == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `body must be {"number": N}`})
		return
	}
	if s.tasks == nil {
		s.tasks = map[string]*task{}
	}
	t := &task{id: newID(), number: *body.Number, createdAt: time.Now().UTC()}
	s.tasks[t.id] = t
	s.counts.Accepted++
	s.counts.Active++
	s.counts.MaxActive = max(s.counts.MaxActive, s.counts.Active)
	w.Header().Set("Location", "/"+t.id)
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "success", "task_id": t.id})
}

func (s *Server) status(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.StatusRequests++
	if s.StatusFailEvery > 0 && s.counts.StatusRequests%s.StatusFailEvery == 0 {
		s.counts.Status503++
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "backend unavailable"})
		return
	}
	t, ok := s.tasks[id]
	if !ok {
		s.counts.NotFound++
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "task not found"})
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
		if !t.done {
			t.done = true
			s.counts.Active--
		}
		resp["finished_at"] = time.Now().UTC()
		if s.Fail != nil && s.Fail(t.number) {
			resp["status"] = "FAILURE"
			resp["error"] = fmt.Sprintf("cannot check %d", t.number)
			break
		}
		resp["status"] = "SUCCESS"
		resp["result"] = map[string]any{"number": t.number, "is_prime": isPrime(t.number) != s.WrongPrime}
	}
	writeJSON(w, http.StatusOK, resp)
}

// isPrime is trial division, independent of the math/big check the load
// generator uses.
func isPrime(n int64) bool {
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

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
