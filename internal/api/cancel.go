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

// Revoker cancels a task.
type Revoker interface {
	Revoke(ctx context.Context, id string, at, expires time.Time) (task.Task, error)
}

const allowStatusAndCancel = "GET, HEAD, DELETE"

func (h *Status) allow() string {
	if h.Revoker != nil {
		return allowStatusAndCancel
	}
	return allowStatus
}

// cancel handles DELETE /{task_id}: a PENDING or STARTED task becomes
// REVOKED (200 with the task); a final one is 409; an unknown one 404.
func (h *Status) cancel(ctx context.Context, id string) events.APIGatewayV2HTTPResponse {
	notFound := errorResponse(http.StatusNotFound,
		"no task with id "+task.Excerpt(id)+"; use the task_id that POST / returned (results are kept for a limited time)")
	if !task.ValidID(id) {
		return notFound
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(h.Timeout, DefaultTimeout))
	defer cancel()
	now := h.now()
	t, err := h.Revoker.Revoke(ctx, id, now, now.Add(cmp.Or(h.Retention, task.DefaultRetention)))
	var final *task.FinalError
	switch {
	case errors.Is(err, task.ErrNotFound):
		return notFound
	case errors.As(err, &final):
		return errorResponse(http.StatusConflict,
			"task "+id+" is already "+string(final.Status)+"; only a PENDING or STARTED task can be cancelled")
	case errors.Is(err, task.ErrConflict):
		return errorResponse(http.StatusConflict,
			"task "+id+" is already final; only a PENDING or STARTED task can be cancelled")
	case err != nil:
		cmp.Or(h.Logger, slog.Default()).ErrorContext(ctx, "revoke task failed", slog.String("task_id", id), slog.Any("error", err))
		return unavailable("retry in a few seconds")
	}
	cmp.Or(h.Logger, slog.Default()).InfoContext(ctx, "task revoked", slog.String("task_id", id))
	return taskResponse(t)
}
