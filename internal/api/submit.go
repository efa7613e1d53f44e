package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/task"
)

// MaxBodyBytes is the largest request body submit accepts; more is 413.
// It leaves ample room for a number of task.MaxDigits digits.
const MaxBodyBytes = 16 << 10

// Submitter accepts a task for a number.
type Submitter interface {
	Submit(ctx context.Context, n task.Number) (task.Task, error)
}

// Submit handles POST /: it validates the body, records the task and queues
// its job, and answers 202 with the task id.
type Submit struct {
	Tasks  Submitter
	Logger *slog.Logger // slog.Default() if nil
}

// SubmitResponse is the body of a 202.
type SubmitResponse struct {
	Status string `json:"status"`
	TaskID string `json:"task_id"`
}

// Handle is the Lambda handler.
func (h *Submit) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if m := req.RequestContext.HTTP.Method; m != http.MethodPost {
		return methodNotAllowed(m, http.MethodPost), nil
	}
	n, status, msg := parseSubmit(req)
	if status != 0 {
		return errorResponse(status, msg), nil
	}
	t, err := h.Tasks.Submit(ctx, n)
	if err != nil {
		logger(h.Logger).ErrorContext(ctx, "submit failed", slog.Any("error", err))
		return unavailable("the task was not accepted, submit it again in a few seconds"), nil
	}
	logger(h.Logger).InfoContext(ctx, "task submitted", slog.String("task_id", t.ID), slog.Int("digits", len(n)))
	return jsonResponse(http.StatusAccepted,
		SubmitResponse{Status: "success", TaskID: t.ID},
		map[string]string{"Location": "/" + t.ID}), nil
}

// parseSubmit validates a submit request. It returns the number, or the
// status and message of the error response.
func parseSubmit(req events.APIGatewayV2HTTPRequest) (task.Number, int, string) {
	if ct := header(req.Headers, "content-type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
			return "", http.StatusUnsupportedMediaType,
				fmt.Sprintf("Content-Type %s is not supported; send application/json", task.Excerpt(ct))
		}
	}
	body := req.Body
	if req.IsBase64Encoded {
		if base64.StdEncoding.DecodedLen(len(body)) > MaxBodyBytes+2 {
			return "", http.StatusRequestEntityTooLarge, tooLarge
		}
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return "", http.StatusBadRequest, "the body is not valid base64"
		}
		body = string(b)
	}
	if len(body) > MaxBodyBytes {
		return "", http.StatusRequestEntityTooLarge, tooLarge
	}
	n, err := ParseBody([]byte(body))
	if err != nil {
		return "", http.StatusBadRequest, err.Error()
	}
	return n, 0, ""
}

var tooLarge = fmt.Sprintf("the body is larger than %d bytes; send {\"number\": N} with at most %d digits", MaxBodyBytes, task.MaxDigits)

// ParseBody parses a submit body: a JSON object with a "number" that is a
// JSON integer or a string of decimal digits. Other fields are ignored.
func ParseBody(body []byte) (task.Number, error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return "", errors.New(`the body is empty; send a JSON object like {"number": 11}`)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return "", fmt.Errorf(`the body must be a JSON object like {"number": 11}, not a JSON %s`, typeErr.Value)
		}
		if _, syntax := errors.AsType[*json.SyntaxError](err); syntax || errors.Is(err, io.ErrUnexpectedEOF) {
			return "", errors.New(`the body is not valid JSON; send a JSON object like {"number": 11}`)
		}
		return "", fmt.Errorf(`the body is not valid JSON (%v); send a JSON object like {"number": 11}`, err)
	}
	if fields == nil {
		return "", errors.New(`the body must be a JSON object like {"number": 11}, not null`)
	}
	raw, ok := fields["number"]
	if !ok {
		return "", errors.New(`the body has no "number" field; send a JSON object like {"number": 11}`)
	}
	return task.ParseJSONNumber(raw)
}

// header returns a header's value. API Gateway lowercases header names in
// payload format 2.0; other callers may not.
func header(h map[string]string, name string) string {
	if v, ok := h[name]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// DefaultTimeout bounds a status read, retries included; it is below the
// function's timeout in the template so the handler answers first.
const DefaultTimeout = 3 * time.Second

func timeout(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return DefaultTimeout
}

func logger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default()
}
