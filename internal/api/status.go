package api

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/task"
)

// DefaultTimeout bounds a status read, retries included; it is below the
// function's timeout in the template so the handler answers first.
const DefaultTimeout = 3 * time.Second

// Getter reads a task.
type Getter interface {
	Get(ctx context.Context, id string) (task.Task, error)
}

// Revoker cancels a task.
type Revoker interface {
	Revoke(ctx context.Context, id string, at, expires time.Time) (task.Task, error)
}

// Status handles GET /{task_id}: it reports a task's state and result;
// and DELETE /{task_id} when Revoker is set: it cancels the task.
type Status struct {
	Store Getter
	// Revoker cancels tasks (DELETE /{task_id}); nil answers DELETE 405.
	Revoker Revoker
	// Retention is how long a revoked task is kept; task.DefaultRetention
	// if zero.
	Retention time.Duration
	// Timeout bounds the store call. DefaultTimeout if zero.
	Timeout time.Duration
	Now     func() time.Time // time.Now if nil
	Logger  *slog.Logger     // slog.Default() if nil
}

// StatusResponse is the body of a 200 from GET /{task_id}.
type StatusResponse struct {
	TaskID     string      `json:"task_id"`
	Status     task.Status `json:"status"`
	Result     *Result     `json:"result"`
	Error      string      `json:"error,omitempty"`
	Attempts   int         `json:"attempts"`
	CreatedAt  *time.Time  `json:"created_at"`
	StartedAt  *time.Time  `json:"started_at"`
	FinishedAt *time.Time  `json:"finished_at"`
}

// Result is a finished check, as the tutorial's API returns it.
type Result struct {
	Number  task.Number `json:"number"`
	IsPrime bool        `json:"is_prime"`
}

// Handle is the Lambda handler.
func (h *Status) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	m := req.RequestContext.HTTP.Method
	if m == "" {
		return methodNotAllowed(m, h.allow()), nil // not a payload 2.0 event: 400
	}
	param, routed := req.PathParameters["task_id"]
	if !routed {
		return errorResponse(http.StatusNotFound,
			"no such resource; POST / submits a number and GET /{task_id} reads its result"), nil
	}
	if m == http.MethodOptions {
		return preflight(h.allow()), nil
	}
	revoke := m == http.MethodDelete && h.Revoker != nil
	if !revoke && m != http.MethodGet && m != http.MethodHead {
		return methodNotAllowed(m, h.allow()), nil
	}
	id, valid := task.ParseID(param)
	if !valid {
		return unknownTask(param), nil
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(h.Timeout, DefaultTimeout))
	defer cancel()
	if revoke {
		return h.cancel(ctx, id, param), nil
	}
	t, err := h.Store.Get(ctx, id)
	switch {
	case errors.Is(err, task.ErrNotFound):
		return unknownTask(param), nil
	case errors.Is(err, task.ErrDamaged):
		// Never a guess: a damaged record could say anything.
		cmp.Or(h.Logger, slog.Default()).ErrorContext(ctx, "the task's stored record is damaged", slog.String("task_id", id), slog.Any("error", err))
		return errorResponse(http.StatusInternalServerError,
			"the stored record of task "+id+" is damaged (it failed its integrity check), so its result cannot be given; the damage was logged for the operator; submit the number again"), nil
	case err != nil:
		cmp.Or(h.Logger, slog.Default()).ErrorContext(ctx, "get task failed", slog.String("task_id", id), slog.Any("error", err))
		return backendFailed(err, "the task cannot be read", "retry in a few seconds"), nil
	}
	if t.Expired(h.now()) {
		return unknownTask(param), nil
	}
	return taskResponse(t), nil
}

// allow is the Allow header of a 405: DELETE only with a Revoker.
func (h *Status) allow() string {
	if h.Revoker != nil {
		return "GET, HEAD, DELETE"
	}
	return "GET, HEAD"
}

// cancel handles DELETE /{task_id}: a PENDING or STARTED task becomes
// REVOKED (200 with the task); a final one is 409; an unknown one 404
// (naming param, the id as the request spelled it).
func (h *Status) cancel(ctx context.Context, id, param string) events.APIGatewayV2HTTPResponse {
	now := h.now()
	t, err := h.Revoker.Revoke(ctx, id, now, now.Add(cmp.Or(h.Retention, task.DefaultRetention)))
	var final *task.FinalError
	switch {
	case errors.Is(err, task.ErrNotFound):
		return unknownTask(param)
	case errors.As(err, &final):
		return errorResponse(http.StatusConflict,
			"task "+id+" is already "+string(final.Status)+"; only a PENDING or STARTED task can be cancelled")
	case errors.Is(err, task.ErrConflict):
		return errorResponse(http.StatusConflict,
			"task "+id+" is already final; only a PENDING or STARTED task can be cancelled")
	case err != nil:
		cmp.Or(h.Logger, slog.Default()).ErrorContext(ctx, "revoke task failed", slog.String("task_id", id), slog.Any("error", err))
		return backendFailed(err, "the task was not cancelled", "retry in a few seconds")
	}
	cmp.Or(h.Logger, slog.Default()).InfoContext(ctx, "task revoked", slog.String("task_id", id))
	return taskResponse(t)
}

// unknownTask is the 404 for a task id (as the request spelled it) that
// names no task.
func unknownTask(param string) events.APIGatewayV2HTTPResponse {
	return errorResponse(http.StatusNotFound,
		"no task with id "+task.Excerpt(param)+"; use the task_id that POST / returned (results are kept for a limited time)")
}

// taskResponse is a 200 with the task, and Retry-After while it is not
// final.
func taskResponse(t task.Task) events.APIGatewayV2HTTPResponse {
	var headers map[string]string
	if !t.Status.Final() {
		headers = map[string]string{"Retry-After": PollAfter}
	}
	return jsonResponse(http.StatusOK, NewStatusResponse(t), headers)
}

// NewStatusResponse renders a task for the API.
func NewStatusResponse(t task.Task) StatusResponse {
	r := StatusResponse{
		TaskID:     t.ID,
		Status:     t.Status,
		Attempts:   t.Attempts,
		CreatedAt:  timestamp(t.CreatedAt),
		StartedAt:  timestamp(t.StartedAt),
		FinishedAt: timestamp(t.FinishedAt),
	}
	switch t.Status {
	case task.StatusSuccess:
		r.Result = &Result{Number: t.Number, IsPrime: t.IsPrime}
	case task.StatusFailure:
		r.Error = t.Error
	}
	return r
}

func timestamp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func (h *Status) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
