package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/queue"
	"github.com/asyncprime/asyncprime/internal/task"
)

// TokenTTL is how long an action token stays valid.
const TokenTTL = 10 * time.Minute

// maxTokens bounds the tokens kept, issued or used.
const maxTokens = 10000

// tokens are single-use action tokens: each action request carries one,
// so that a request replayed (or sent twice) is refused.
type tokens struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]tokenState
}

type tokenState struct {
	expires time.Time
	used    bool
}

func newTokens(now func() time.Time) *tokens {
	return &tokens{now: now, m: make(map[string]tokenState)}
}

func (ts *tokens) issue() (string, time.Time) {
	var b [16]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	now := ts.now()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.m) >= maxTokens {
		for k, s := range ts.m {
			if !now.Before(s.expires) {
				delete(ts.m, k)
			}
		}
		if len(ts.m) >= maxTokens {
			clear(ts.m)
		}
	}
	exp := now.Add(TokenTTL)
	ts.m[tok] = tokenState{expires: exp}
	return tok, exp
}

var (
	errTokenUnknown = errors.New("unknown or expired action token: get a fresh one from GET /console/api/token")
	errTokenUsed    = errors.New("this action token was already used (a replayed request?): get a fresh one from GET /console/api/token")
)

// use spends tok.
func (ts *tokens) use(tok string) error {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	s, ok := ts.m[tok]
	switch {
	case !ok || !ts.now().Before(s.expires):
		return errTokenUnknown
	case s.used:
		return errTokenUsed
	}
	s.used = true
	ts.m[tok] = s
	return nil
}

// TokenResponse is the answer of GET /console/api/token.
type TokenResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (c *Console) token(w http.ResponseWriter, r *http.Request) {
	if err := sameOrigin(r); err != nil {
		writeError(w, http.StatusForbidden, err.Error())
		return
	}
	tok, exp := c.tokens.issue()
	writeJSON(w, http.StatusOK, TokenResponse{Token: tok, ExpiresAt: exp.UTC()})
}

// ActionRequest is the body of POST /console/api/actions/{action}.
type ActionRequest struct {
	Token  string `json:"token"`
	TaskID string `json:"task_id,omitempty"` // retry only
}

// ActionResponse is the answer of a successful action.
type ActionResponse struct {
	Action  string `json:"action"`
	Message string `json:"message"`
	// Moved (redrive) and Purged (purge) count messages; Async says SQS
	// moves them in the background (StartMessageMoveTask), TaskHandle
	// names that move.
	Moved      *int   `json:"moved,omitempty"`
	Async      bool   `json:"async,omitempty"`
	TaskHandle string `json:"task_handle,omitempty"`
	Purged     *int   `json:"purged,omitempty"`
	// Reopened (redrive) counts the tasks moved from FAILURE (dead-lettered)
	// back to PENDING so that their redriven messages run them again.
	Reopened *int `json:"reopened,omitempty"`
	// Task is the retried task, PENDING again.
	Task *api.StatusResponse `json:"task,omitempty"`
}

// maxActionBytes bounds an action's body: a token and a task id.
const maxActionBytes = 4096

// action runs POST /console/api/actions/{redrive,purge,retry}: same origin
// only, a JSON body with a fresh token.
func (c *Console) action(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("action")
	if name != "redrive" && name != "purge" && name != "retry" {
		writeError(w, http.StatusNotFound, "no action "+task.Excerpt(name)+": the actions are redrive, purge and retry")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "actions take POST")
		return
	}
	if err := sameOrigin(r); err != nil {
		writeError(w, http.StatusForbidden, err.Error())
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "send the action as application/json")
		return
	}
	if ce := strings.TrimSpace(r.Header.Get("Content-Encoding")); ce != "" && !strings.EqualFold(ce, "identity") {
		w.Header().Set("Accept-Encoding", "identity")
		writeError(w, http.StatusUnsupportedMediaType, "send the action uncompressed, without Content-Encoding")
		return
	}
	var req ActionRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, maxActionBytes+1))
	if err == nil && len(body) > maxActionBytes {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf(`the body is larger than %d bytes; send {"token": "...", "task_id": "..." (retry only)}`, maxActionBytes))
		return
	}
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, `the body must be a JSON object: {"token": "...", "task_id": "..." (retry only)}`)
		return
	}
	if name == "retry" {
		var valid bool
		if req.TaskID, valid = task.ParseID(req.TaskID); !valid {
			writeError(w, http.StatusBadRequest, "malformed task_id "+task.Excerpt(req.TaskID)+": a task id is a UUID")
			return
		}
	}
	if err := c.tokens.use(req.Token); err != nil {
		status := http.StatusForbidden
		if errors.Is(err, errTokenUsed) {
			status = http.StatusConflict
		}
		writeError(w, status, err.Error())
		return
	}
	// The action finishes even if the client goes away: a move is never
	// left half done because a browser tab closed.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*callTimeout)
	defer cancel()
	log := c.cfg.Logger.With(slog.String("action", name), slog.String("remote", r.RemoteAddr))
	switch name {
	case "redrive", "purge":
		c.deadLetterAction(ctx, w, log, name)
	case "retry":
		c.retry(ctx, w, log, req.TaskID)
	}
}

func (c *Console) deadLetterAction(ctx context.Context, w http.ResponseWriter, log *slog.Logger, name string) {
	dl := c.dead
	if dl == nil {
		writeError(w, http.StatusNotImplemented, "this queue has no dead-letter queue the console can act on")
		return
	}
	n, err := dl.DeadLetterCounts(ctx)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "count the dead letters: "+err.Error())
		return
	}
	if n.Total() == 0 {
		writeError(w, http.StatusConflict, "the dead-letter queue is empty: nothing to "+name)
		return
	}
	switch name {
	case "redrive":
		reopened, err := c.reopenDeadLettered(ctx, dl)
		if err != nil {
			log.ErrorContext(ctx, "console: redrive: reopening the dead-lettered tasks failed; nothing moved", slog.Int("reopened", len(reopened)), slog.Any("error", err))
			writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("redrive: reopen the dead-lettered tasks: %v (nothing was moved; the %d tasks reopened go back to FAILURE at the next settle rounds)", err, len(reopened)))
			return
		}
		res, err := dl.RedriveDeadLetters(ctx)
		if err != nil {
			log.ErrorContext(ctx, "console: redrive failed", slog.Int("moved", res.Moved), slog.Int("reopened", len(reopened)), slog.Any("error", err))
			writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("redrive stopped after %d messages (the others are still in the dead-letter queue, and their tasks go back to FAILURE at the next settle rounds): %v", res.Moved, err))
			return
		}
		log.InfoContext(ctx, "console: redrove the dead-letter queue", slog.Int("moved", res.Moved), slog.Int("reopened", len(reopened)), slog.Bool("async", res.Async))
		msg := res.String()
		n := len(reopened)
		if n > 0 {
			msg += "; " + queue.Reopened(n)
		}
		writeJSON(w, http.StatusOK, ActionResponse{Action: "redrive", Message: msg, Moved: &res.Moved, Async: res.Async, TaskHandle: res.TaskHandle, Reopened: &n})
	case "purge":
		purged, err := dl.PurgeDeadLetters(ctx)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "purge the dead letters: "+err.Error())
			return
		}
		log.InfoContext(ctx, "console: purged the dead-letter queue", slog.Int("purged", purged))
		writeJSON(w, http.StatusOK, ActionResponse{Action: "purge", Message: "deleted " + queue.DeadLetters(purged), Purged: &purged})
	}
}

// RedriveScan bounds the dead letters a redrive looks at to reopen their
// tasks; the tasks of any beyond it stay FAILURE when their messages move.
const RedriveScan = 1000

// reopenDeadLettered reopens the tasks of dl's dead letters when the store
// can (ReopenDeadLettered).
func (c *Console) reopenDeadLettered(ctx context.Context, dl DeadLetters) ([]string, error) {
	store, ok := c.cfg.Store.(task.DeadLetterStore)
	if !ok {
		return nil, nil
	}
	return ReopenDeadLettered(ctx, dl, store, c.cfg.Retention, c.cfg.Now())
}

// ReopenDeadLettered moves the tasks that the first RedriveScan dead
// letters of dl name, and that are FAILURE because they were
// dead-lettered, back to PENDING, so that a redrive runs them again
// (task.ReopenDeadLettered). It returns their ids.
func ReopenDeadLettered(ctx context.Context, dl DeadLetters, store task.DeadLetterStore, retention time.Duration, now time.Time) ([]string, error) {
	peeked, err := dl.PeekDeadLetters(ctx, RedriveScan)
	if err != nil {
		return nil, fmt.Errorf("peek at the dead letters: %w", err)
	}
	bodies := make([]string, len(peeked))
	for i, p := range peeked {
		bodies[i] = p.Body
	}
	return task.ReopenDeadLettered(ctx, store, bodies, retention, now)
}

func (c *Console) retry(ctx context.Context, w http.ResponseWriter, log *slog.Logger, id string) {
	store, ok := c.cfg.Store.(task.RetryStore)
	if !ok {
		writeError(w, http.StatusNotImplemented, "this store cannot retry tasks")
		return
	}
	t, err := task.Retry(ctx, store, c.cfg.Queue, c.cfg.BigQueue, id, c.cfg.Retention, c.cfg.Now())
	switch {
	case errors.Is(err, task.ErrNotFound):
		writeError(w, http.StatusNotFound, "no task "+id+" (unknown, or expired after its retention)")
	case errors.Is(err, task.ErrNotFailed):
		writeError(w, http.StatusConflict, err.Error())
	case err != nil:
		log.ErrorContext(ctx, "console: retry failed", slog.String("task_id", id), slog.Any("error", err))
		writeError(w, http.StatusServiceUnavailable, err.Error())
	default:
		log.InfoContext(ctx, "console: retried a FAILURE task", slog.String("task_id", id))
		resp := api.NewStatusResponse(t)
		writeJSON(w, http.StatusOK, ActionResponse{Action: "retry", Message: "task " + id + " is PENDING again and queued", Task: &resp})
	}
}

// sameOrigin refuses a request a browser sent from another origin: by
// Sec-Fetch-Site where the browser sends it, by Origin otherwise. A
// request with neither (curl, the CLI) is not a browser's cross-site
// request. It also refuses a Host that is a DNS name other than localhost:
// a page whose name was rebound to this address would otherwise be "same
// origin" (DNS rebinding).
func sameOrigin(r *http.Request) error {
	if !hostAllowed(r.Host) {
		return fmt.Errorf("request for host %s refused: the console answers only to an IP address or localhost (DNS rebinding)", task.Excerpt(r.Host))
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return fmt.Errorf("cross-origin request refused (Sec-Fetch-Site: %s): use the console at /console/", task.Excerpt(site))
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return fmt.Errorf("cross-origin request refused (Origin %s is not this server, %s)", task.Excerpt(o), task.Excerpt(r.Host))
		}
	}
	return nil
}

// hostAllowed reports whether a Host header names this machine the way
// an operator does: an IP address, or localhost.
func hostAllowed(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost")
}
