package console

import (
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// QueueStats is a queue that reports its counts (GetQueueAttributes).
type QueueStats interface {
	Counts(ctx context.Context) (queue.Counts, error)
}

// DeadLetters is a queue that lets an operator see and act on its
// dead-letter queue.
type DeadLetters interface {
	DeadLetterCounts(ctx context.Context) (queue.Counts, error)
	PeekDeadLetters(ctx context.Context, max int) ([]queue.Peeked, error)
	RedriveDeadLetters(ctx context.Context) (queue.Redrive, error)
	PurgeDeadLetters(ctx context.Context) (int, error)
}

// Config is what the console shows and acts on.
type Config struct {
	// Backend names the backend in the page: bolt, memory or aws.
	Backend string
	// Store is read by the task inspector and /health; an operator's
	// retry needs it to implement task.Reopener too.
	Store task.Store
	// Queue is the task queue: a retry sends to it; its counts and dead
	// letters are shown when it implements QueueStats and DeadLetters.
	Queue queue.Queue
	// BigQueue, if set, is the queue of the tasks of numbers beyond 64
	// bits (task.Big): a retry of such a task sends to it, and its counts
	// and dead letters are added to Queue's, and acted on with them.
	BigQueue queue.Queue
	// Counters are the figures "since start"; NewCounters(nil) if nil.
	Counters *Counters
	// MaxReceiveCount is the redrive policy's, shown in the page.
	MaxReceiveCount int
	// Retention is how long a retried task is kept (task.DefaultRetention
	// if zero).
	Retention time.Duration
	Now       func() time.Time // time.Now if nil
	Logger    *slog.Logger     // slog.Default() if nil
}

// Console serves the console's page, its API, its actions and /health.
type Console struct {
	cfg    Config
	mux    *http.ServeMux
	tokens *tokens
	// counts and dead are Queue and BigQueue as one (see queues.go); nil
	// when Queue does not report counts or has no dead-letter queue.
	counts QueueStats
	dead   DeadLetters
}

// callTimeout bounds each call to a backend.
const callTimeout = 3 * time.Second

//go:embed static
var static embed.FS

// New returns the console.
func New(cfg Config) *Console {
	if cfg.Counters == nil {
		cfg.Counters = NewCounters(cfg.Now)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Logger = cmp.Or(cfg.Logger, slog.Default())
	cfg.Retention = cmp.Or(cfg.Retention, task.DefaultRetention)
	c := &Console{cfg: cfg, mux: http.NewServeMux(), tokens: newTokens(cfg.Now)}
	// BigQueue counts only along with Queue.
	if qs, ok := cfg.Queue.(QueueStats); ok {
		counts := queueStats{qs}
		if big, ok := cfg.BigQueue.(QueueStats); ok {
			counts = append(counts, big)
		}
		c.counts = counts
	}
	if dl, ok := cfg.Queue.(DeadLetters); ok {
		dead := deadLetterQueues{dl}
		if big, ok := cfg.BigQueue.(DeadLetters); ok {
			dead = append(dead, big)
		}
		c.dead = dead
	}
	files, _ := fs.Sub(static, "static")
	assets := http.StripPrefix("/console/", http.FileServerFS(files))
	c.mux.HandleFunc("/console", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusMovedPermanently)
	})
	c.mux.HandleFunc("/console/", get(func(w http.ResponseWriter, r *http.Request) {
		// Only the console's own files; anything else is the JSON 404 that
		// every other unknown path gets.
		if name := strings.TrimPrefix(r.URL.Path, "/console/"); name != "" {
			if fi, err := fs.Stat(files, name); err != nil || fi.IsDir() {
				writeError(w, http.StatusNotFound, "no console file "+task.Excerpt(name)+"; the console is at /console/")
				return
			}
		}
		assets.ServeHTTP(w, r)
	}))
	c.mux.HandleFunc("/health", get(c.health))
	c.mux.HandleFunc("/console/api/stats", get(c.stats))
	c.mux.HandleFunc("/console/api/tasks/{id}", get(c.inspect))
	c.mux.HandleFunc("/console/api/dead-letters", get(c.deadLetters))
	c.mux.HandleFunc("/console/api/token", get(c.token))
	c.mux.HandleFunc("/console/api/actions/{action}", c.action)
	c.mux.HandleFunc("/console/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such console API path; see the README for /console/api/stats, /console/api/tasks/{id}, /console/api/dead-letters, /console/api/token and POST /console/api/actions/{redrive,purge,retry}")
	})
	return c
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'none'; base-uri 'none'")
	if strings.HasPrefix(r.URL.Path, "/console/api/") || r.URL.Path == "/health" {
		h.Set("Cache-Control", "no-store")
	}
	if strings.HasPrefix(r.URL.Path, "/console/api/") && !hostAllowed(r.Host) {
		writeError(w, http.StatusForbidden, "request for host "+task.Excerpt(r.Host)+" refused: the console answers only to an IP address or localhost (DNS rebinding)")
		return
	}
	c.mux.ServeHTTP(w, r)
}

// get wraps a GET (and HEAD) handler, answering other methods 405.
func get(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "use GET")
			return
		}
		fn(w, r)
	}
}

// QueueCounts is a queue's counts as the API reports them.
type QueueCounts struct {
	Visible  int `json:"visible"`
	InFlight int `json:"in_flight"`
	Delayed  int `json:"delayed"`
	// OldestAgeSeconds is the age of the oldest message; null when the
	// queue is empty or does not say (SQS).
	OldestAgeSeconds *float64 `json:"oldest_age_seconds"`
}

// Stats is the answer of GET /console/api/stats.
type Stats struct {
	Backend         string    `json:"backend"`
	Now             time.Time `json:"now"`
	MaxReceiveCount int       `json:"max_receive_count,omitempty"`
	// Queue and DeadLetters are what the queues report now; null, with
	// the reason in Errors, when they do not answer.
	Queue       *QueueCounts `json:"queue"`
	DeadLetters *QueueCounts `json:"dead_letters"`
	// SinceStart counts what this process did since Since.
	SinceStart Snapshot          `json:"since_start"`
	Errors     map[string]string `json:"errors,omitempty"`
}

func (c *Console) stats(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	now := c.cfg.Now()
	var named sync.WaitGroup
	named.Go(func() { c.nameTasks(ctx, now) })
	s := Stats{Backend: c.cfg.Backend, Now: now.UTC(), MaxReceiveCount: c.cfg.MaxReceiveCount, Errors: map[string]string{}}
	if c.counts == nil {
		s.Errors["queue"] = "this queue does not report its counts"
	} else if n, err := c.counts.Counts(ctx); err != nil {
		s.Errors["queue"] = err.Error()
	} else {
		s.Queue = countsOf(n, now)
	}
	if c.dead == nil {
		s.Errors["dead_letters"] = "this queue has no dead-letter queue the console can read"
	} else if n, err := c.dead.DeadLetterCounts(ctx); err != nil {
		s.Errors["dead_letters"] = err.Error()
	} else {
		s.DeadLetters = countsOf(n, now)
	}
	if len(s.Errors) == 0 {
		s.Errors = nil
	}
	named.Wait()
	s.SinceStart = c.cfg.Counters.Snapshot()
	writeJSON(w, http.StatusOK, s)
}

// nameTasks asks the store for the numbers of the tasks listed that no
// event told (see Counters.learn): a task submitted before a restart, or
// one whose earlier events are no longer listed, finishes with an event
// that knows only its id. It stops at the first error, to ask again at the
// next refresh.
func (c *Console) nameTasks(ctx context.Context, now time.Time) {
	for _, id := range c.cfg.Counters.unnamed() {
		t, err := c.cfg.Store.Get(ctx, id)
		if err != nil && !errors.Is(err, task.ErrNotFound) {
			return
		}
		c.cfg.Counters.learn(id, t, err == nil && !t.Expired(now))
	}
}

func countsOf(n queue.Counts, now time.Time) *QueueCounts {
	q := &QueueCounts{Visible: n.Visible, InFlight: n.InFlight, Delayed: n.Delayed}
	if !n.Oldest.IsZero() {
		age := max(now.Sub(n.Oldest), 0).Seconds()
		q.OldestAgeSeconds = &age
	}
	return q
}

func (c *Console) inspect(w http.ResponseWriter, r *http.Request) {
	id, valid := task.ParseID(r.PathValue("id"))
	if !valid {
		writeError(w, http.StatusBadRequest, "malformed task id "+task.Excerpt(r.PathValue("id"))+": a task id is a UUID")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	t, err := c.cfg.Store.Get(ctx, id)
	switch {
	case errors.Is(err, task.ErrNotFound) || err == nil && t.Expired(c.cfg.Now()):
		writeError(w, http.StatusNotFound, "no task "+id+" (unknown, or expired after its retention)")
	case err != nil:
		c.unavailable(w, r, "read task "+id, err)
	default:
		writeJSON(w, http.StatusOK, api.NewStatusResponse(t))
	}
}

// DeadLetter is a dead-letter message as GET /console/api/dead-letters
// lists it.
type DeadLetter struct {
	queue.Peeked
	// TaskID is the task the message names, if its body is a task message.
	TaskID string `json:"task_id,omitempty"`
}

func (c *Console) deadLetters(w http.ResponseWriter, r *http.Request) {
	dl := c.dead
	if dl == nil {
		writeError(w, http.StatusNotImplemented, "this queue has no dead-letter queue the console can read")
		return
	}
	limit := 10
	if v := r.URL.Query().Get("max"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, "max must be a whole number from 1 to 100")
			return
		}
		limit = n
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	peeked, err := dl.PeekDeadLetters(ctx, limit)
	if err != nil {
		c.unavailable(w, r, "peek at the dead letters", err)
		return
	}
	out := make([]DeadLetter, len(peeked))
	for i, p := range peeked {
		out[i] = DeadLetter{Peeked: p}
		if m, err := task.DecodeMessage(p.Body); err == nil {
			out[i].TaskID = m.TaskID
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": out})
}

// Health is the answer of GET /health.
type Health struct {
	Status string            `json:"status"` // ok or unavailable
	Checks map[string]string `json:"checks"`
	Error  string            `json:"error,omitempty"`
}

func (c *Console) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	h := Health{Status: "ok", Checks: map[string]string{}}
	var problems []string
	// A read of an id no task has: the store answers ErrNotFound.
	if _, err := c.cfg.Store.Get(ctx, task.NewID()); err != nil && !errors.Is(err, task.ErrNotFound) {
		h.Checks["store"] = err.Error()
		problems = append(problems, "store: "+err.Error())
	} else {
		h.Checks["store"] = "ok"
	}
	if c.counts != nil {
		if _, err := c.counts.Counts(ctx); err != nil {
			h.Checks["queue"] = err.Error()
			problems = append(problems, "queue: "+err.Error())
		} else {
			h.Checks["queue"] = "ok"
		}
	}
	status := http.StatusOK
	if len(problems) > 0 {
		h.Status, h.Error, status = "unavailable", strings.Join(problems, "; "), http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, h)
}

func (c *Console) unavailable(w http.ResponseWriter, r *http.Request, what string, err error) {
	c.cfg.Logger.WarnContext(r.Context(), "console: backend call failed", slog.String("call", what), slog.Any("error", err))
	w.Header().Set("Retry-After", "1")
	writeError(w, http.StatusServiceUnavailable, what+": "+err.Error())
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"could not encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, api.Error{Error: msg})
}
