// Package client speaks the asyncprime HTTP API, and the local console's
// API, as curl does: the same requests, and the API's own error messages.
// cmd/primectl is its command line.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/console"
)

// Client calls one deployment's API at Base (http://127.0.0.1:8000, or a
// deployed stack's ApiUrl).
type Client struct {
	Base string
}

// APIError is an answer other than the one expected: its status and the
// API's own message.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status) }

// do sends a request and decodes a JSON answer with the wanted status into
// out; raw is the body as received.
func (c *Client) do(ctx context.Context, method, path string, body any, want int, out any) (raw []byte, err error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.Base, "/")+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err = io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the answer: %w", method, req.URL, err)
	}
	if resp.StatusCode != want {
		var e api.Error
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			return raw, &APIError{Status: resp.StatusCode, Message: e.Error}
		}
		return raw, &APIError{Status: resp.StatusCode, Message: fmt.Sprintf("%s %s answered %q", method, req.URL, excerpt(raw))}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return raw, fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, req.URL, err)
		}
	}
	return raw, nil
}

func excerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Submit submits a number and returns the task id. A number written as a
// JSON number goes as one, digit for digit (as curl -d '{"number": 11}'
// sends it), so that the API judges it; anything else goes as a string.
func (c *Client) Submit(ctx context.Context, number string) (api.SubmitResponse, []byte, error) {
	var body any = map[string]string{"number": number}
	if n := strings.TrimPrefix(number, "-"); n != "" && n[0] >= '0' && n[0] <= '9' && json.Valid([]byte(number)) {
		body = map[string]json.RawMessage{"number": json.RawMessage(number)}
	}
	var r api.SubmitResponse
	raw, err := c.do(ctx, http.MethodPost, "/", body, http.StatusAccepted, &r)
	return r, raw, err
}

// Task reads a task.
func (c *Client) Task(ctx context.Context, id string) (api.StatusResponse, []byte, error) {
	var r api.StatusResponse
	raw, err := c.do(ctx, http.MethodGet, "/"+id, nil, http.StatusOK, &r)
	return r, raw, err
}

// Wait polls a task every interval until it is final or ctx ends.
func (c *Client) Wait(ctx context.Context, id string, interval time.Duration) (api.StatusResponse, []byte, error) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		r, raw, err := c.Task(ctx, id)
		if err != nil || r.Status.Final() {
			return r, raw, err
		}
		select {
		case <-ctx.Done():
			return r, raw, fmt.Errorf("task %s is still %s: %w", id, r.Status, ctx.Err())
		case <-tick.C:
		}
	}
}

// Stats reads the local console's stats.
func (c *Client) Stats(ctx context.Context) (console.Stats, []byte, error) {
	var r console.Stats
	raw, err := c.do(ctx, http.MethodGet, "/console/api/stats", nil, http.StatusOK, &r)
	return r, raw, err
}

// Health reads /health: a 503 is an APIError with the reason.
func (c *Client) Health(ctx context.Context) (console.Health, []byte, error) {
	var r console.Health
	raw, err := c.do(ctx, http.MethodGet, "/health", nil, http.StatusOK, &r)
	if e, ok := errors.AsType[*APIError](err); ok && e.Status == http.StatusServiceUnavailable {
		json.Unmarshal(raw, &r)
		if r.Error != "" {
			e.Message = r.Error
		}
	}
	return r, raw, err
}

// Action runs a console action (redrive, purge, retry) with a fresh token.
func (c *Client) Action(ctx context.Context, action, taskID string) (console.ActionResponse, []byte, error) {
	var tok console.TokenResponse
	if _, err := c.do(ctx, http.MethodGet, "/console/api/token", nil, http.StatusOK, &tok); err != nil {
		return console.ActionResponse{}, nil, err
	}
	var r console.ActionResponse
	raw, err := c.do(ctx, http.MethodPost, "/console/api/actions/"+action, console.ActionRequest{Token: tok.Token, TaskID: taskID}, http.StatusOK, &r)
	return r, raw, err
}
