package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Task states as the API spells them.
const (
	statePending = "PENDING"
	stateStarted = "STARTED"
	stateSuccess = "SUCCESS"
	stateFailure = "FAILURE"
)

const (
	// maxBody caps how much of a response body is decoded.
	maxBody = 1 << 20
	// maxErrorBody caps how much of an error response is kept for messages.
	maxErrorBody = 4 << 10
	userAgent    = "asyncprime-loadgen/1"
)

// newHTTPClient returns an http.Client whose Transport (otherwise
// http.DefaultTransport's) keeps conns idle keep-alive connections per
// host, so that conns concurrent requests reuse their connections instead
// of dialling new ones. It sets no overall timeout: each request carries
// its job's context.
func newHTTPClient(conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = max(conns, t.MaxIdleConns)
	t.MaxIdleConnsPerHost = max(conns, 1)
	return &http.Client{Transport: t}
}

// apiClient speaks the asyncprime HTTP API.
type apiClient struct {
	http *http.Client
	base string // no trailing slash
}

// submitResponse is the body of a 202 from POST {base}/.
type submitResponse struct {
	Status string `json:"status"`
	TaskID string `json:"task_id"`
}

// statusResponse is the body of a 200 from GET {base}/{task_id}.
type statusResponse struct {
	TaskID string      `json:"task_id"`
	Status string      `json:"status"`
	Result *taskResult `json:"result"`
	Error  string      `json:"error"`
}

type taskResult struct {
	Number  json.Number `json:"number"`
	IsPrime *bool       `json:"is_prime"`
}

// UnmarshalJSON reads the API's {"number": ..., "is_prime": ...}, or the
// bare boolean the tutorial's Celery stack answers (then Number is empty,
// and -check cannot verify it).
func (r *taskResult) UnmarshalJSON(b []byte) error {
	var prime bool
	if json.Unmarshal(b, &prime) == nil {
		*r = taskResult{IsPrime: &prime}
		return nil
	}
	type plain taskResult
	return json.Unmarshal(b, (*plain)(r))
}

// statusError is a response with a non-2xx status code.
type statusError struct {
	code    int
	message string // the body's "error" field, or a prefix of the body
}

func (e *statusError) Error() string {
	if e.message == "" {
		return fmt.Sprintf("HTTP %d", e.code)
	}
	return fmt.Sprintf("HTTP %d: %s", e.code, e.message)
}

// badResponseError is a 2xx response whose body is not what the API sends.
type badResponseError struct{ err error }

func (e *badResponseError) Error() string { return "bad response: " + e.err.Error() }
func (e *badResponseError) Unwrap() error { return e.err }

// submit posts n and returns the new task's id and the request's latency.
func (c *apiClient) submit(ctx context.Context, n int64) (string, time.Duration, error) {
	body := []byte(`{"number":` + strconv.FormatInt(n, 10) + `}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/", bytes.NewReader(body))
	if err != nil {
		return "", 0, fmt.Errorf("build submit request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	var out submitResponse
	lat, err := c.do(req, &out)
	if err != nil {
		return "", lat, err
	}
	if out.TaskID == "" {
		return "", lat, &badResponseError{errors.New("no task_id in submit response")}
	}
	return out.TaskID, lat, nil
}

// status fetches the state of task id and returns it with the request's
// latency.
func (c *apiClient) status(ctx context.Context, id string) (statusResponse, time.Duration, error) {
	var out statusResponse
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/"+url.PathEscape(id), nil)
	if err != nil {
		return out, 0, fmt.Errorf("build status request: %w", err)
	}
	lat, err := c.do(req, &out)
	return out, lat, err
}

// do sends req, decodes a 2xx JSON body into out, and always reads and
// closes the body so the connection goes back to the pool. The latency runs
// from sending the request to having read the whole body.
func (c *apiClient) do(req *http.Request, out any) (time.Duration, error) {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return time.Since(start), err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		_, _ = io.Copy(io.Discard, resp.Body)
		return time.Since(start), &statusError{code: resp.StatusCode, message: errorMessage(b)}
	}
	decErr := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(out)
	_, copyErr := io.Copy(io.Discard, resp.Body)
	lat := time.Since(start)
	if decErr != nil {
		// A body cut short by the network is a transport problem, not a
		// malformed response.
		if copyErr != nil {
			return lat, copyErr
		}
		return lat, &badResponseError{fmt.Errorf("decode %s: %w", req.Method, decErr)}
	}
	return lat, copyErr
}

// errorMessage extracts {"error": "..."} from an error body, or falls back
// to a short prefix of the body (API Gateway's own errors use "message").
func errorMessage(b []byte) string {
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil {
		if e.Error != "" {
			return e.Error
		}
		if e.Message != "" {
			return e.Message
		}
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
