package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/apitest"
	"github.com/asyncprime/asyncprime/internal/memory"
	"github.com/asyncprime/asyncprime/internal/task"
)

func fixture(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return req
}

// fakeSubmitter accepts single numbers through submitFunc, or whole
// requests through acceptFunc.
type fakeSubmitter struct {
	submitFunc func(ctx context.Context, n task.Number) (task.Task, error)
	acceptFunc func(ctx context.Context, r task.Request) (task.Receipt, error)
}

func (f *fakeSubmitter) Accept(ctx context.Context, r task.Request) (task.Receipt, error) {
	if f.acceptFunc != nil {
		return f.acceptFunc(ctx, r)
	}
	if len(r.Numbers) != 1 || r.Batch {
		return task.Receipt{}, errors.New("fakeSubmitter: a batch without acceptFunc")
	}
	t, err := f.submitFunc(ctx, r.Numbers[0])
	if err != nil {
		return task.Receipt{}, err
	}
	return task.Receipt{TaskIDs: []string{t.ID}}, nil
}

func decodeError(t *testing.T, resp events.APIGatewayV2HTTPResponse) string {
	t.Helper()
	var e api.Error
	if err := json.Unmarshal([]byte(resp.Body), &e); err != nil || e.Error == "" {
		t.Fatalf("body %q is not a JSON error: %v", resp.Body, err)
	}
	return e.Error
}

func TestSubmitAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want task.Number
	}{
		{name: "seed request", body: `{"number": 11}`, want: "11"},
		{name: "httpie string", body: `{"number": "11"}`, want: "11"},
		{name: "beyond float64", body: `{"number": 2305843009213693951}`, want: "2305843009213693951"},
		{name: "negative", body: `{"number": -5}`, want: "-5"},
		{name: "extra fields ignored", body: `{"number": 4, "note": "hi"}`, want: "4"},
		{name: "an ignored field twice", body: `{"note": 1, "number": 4, "note": 2}`, want: "4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got task.Number
			h := &api.Submit{Tasks: &fakeSubmitter{submitFunc: func(_ context.Context, n task.Number) (task.Task, error) {
				got = n
				return task.Task{ID: "3f2b8c1e-7d4a-4e59-9b1c-2a6f0e8d4c71", Status: task.StatusPending, Number: n}, nil
			}}}
			req := fixture(t, "submit.json")
			req.Body = tt.body
			resp, err := h.Handle(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			apitest.CheckEvent(t, req.RequestContext.HTTP.Method, req.RawPath, resp)
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("status = %d (%s); want 202", resp.StatusCode, resp.Body)
			}
			if got != tt.want {
				t.Errorf("submitted %q; want %q", got, tt.want)
			}
			if want := `{"status":"success","task_id":"3f2b8c1e-7d4a-4e59-9b1c-2a6f0e8d4c71"}`; resp.Body != want {
				t.Errorf("body = %s; want %s", resp.Body, want)
			}
			if loc := resp.Headers["Location"]; loc != "/3f2b8c1e-7d4a-4e59-9b1c-2a6f0e8d4c71" {
				t.Errorf("Location = %q; want /3f2b8c1e-7d4a-4e59-9b1c-2a6f0e8d4c71", loc)
			}
		})
	}
}

func TestSubmitRejects(t *testing.T) {
	t.Parallel()
	huge := `{"number": ` + strings.Repeat("1", api.MaxBodyBytes) + `}`
	tests := []struct {
		name        string
		method      string
		contentType string // "-" removes the header
		headers     map[string]string
		body        string
		base64      bool
		wantStatus  int
		wantError   string
		notWant     string // jargon the message must not contain
	}{
		{name: "GET on /", method: "GET", body: "", wantStatus: 405, wantError: "use POST"},
		{name: "DELETE on /", method: "DELETE", wantStatus: 405, wantError: "use POST"},
		{name: "form content type", contentType: "application/x-www-form-urlencoded", body: "number=11", wantStatus: 415, wantError: "send application/json"},
		{name: "text content type", contentType: "text/plain", body: `{"number": 11}`, wantStatus: 415},
		{name: "garbage content type", contentType: ";;;", body: `{"number": 11}`, wantStatus: 415},
		{name: "UTF-16 charset", contentType: "application/json; charset=utf-16", body: `{"number": 11}`, wantStatus: 415, wantError: `charset "utf-16" is not supported; send UTF-8 JSON`},
		{name: "Latin-1 charset", contentType: "application/json; charset=ISO-8859-1", body: `{"number": 11}`, wantStatus: 415, wantError: "send UTF-8 JSON"},
		{name: "invalid UTF-8 in an ignored field", body: "{\"number\": 11, \"note\": \"\xff\xfe\"}", wantStatus: 400, wantError: "not valid UTF-8"},
		{name: "gzip body", headers: map[string]string{"content-encoding": "gzip"}, body: gzipBase64(t, `{"number": 11}`), base64: true,
			wantStatus: 415, wantError: `Content-Encoding "gzip" is not supported; send the body uncompressed`, notWant: "not valid JSON"},
		{name: "Idempotency-Key twice", headers: map[string]string{"idempotency-key": "order-42,order-43"}, body: `{"number": 11}`,
			wantStatus: 400, wantError: "send one Idempotency-Key"},
		{name: "plain body labelled gzip", headers: map[string]string{"content-encoding": "gzip"}, body: `{"number": 11}`,
			wantStatus: 415, wantError: "Content-Encoding"},
		{name: "deflate, then identity", headers: map[string]string{"Content-Encoding": "deflate, identity"}, body: `{"number": 11}`,
			wantStatus: 415, wantError: "Content-Encoding"},
		{name: "empty body", body: "", wantStatus: 400, wantError: "body is empty"},
		{name: "huge method", method: strings.Repeat("X", 200_000), wantStatus: 405, wantError: "not allowed"},
		{name: "REST API (v1) event", method: "-", body: `{"number": 11}`, wantStatus: 400, wantError: "not an API Gateway HTTP API (payload format 2.0) event"},
		{name: "not JSON", body: "number=11", wantStatus: 400, wantError: `not valid JSON; send a JSON object like {"number": 11}`, notWant: "invalid character"},
		{name: "truncated JSON", body: `{"number": 11`, wantStatus: 400, wantError: "not valid JSON", notWant: "unexpected end"},
		{name: "byte order mark", body: "\ufeff" + `{"number": 11}`, wantStatus: 400, wantError: "starts with a byte order mark (U+FEFF); send the JSON without it"},
		{name: "array", body: `[11]`, wantStatus: 400, wantError: "must be a JSON object"},
		{name: "bare number", body: `11`, wantStatus: 400, wantError: "must be a JSON object"},
		{name: "null", body: `null`, wantStatus: 400, wantError: "must be a JSON object"},
		{name: "no number", body: `{"n": 11}`, wantStatus: 400, wantError: `no "number" field`},
		{name: "number twice", body: `{"number": 11, "number": 12}`, wantStatus: 400, wantError: `the field "number" more than once`},
		{name: "number twice, once escaped", body: `{"number": 11, "\u006eumber": 12}`, wantStatus: 400, wantError: `the field "number" more than once`},
		{name: "float", body: `{"number": 11.5}`, wantStatus: 400, wantError: "must be an integer"},
		{name: "exponent", body: `{"number": 1e9}`, wantStatus: 400, wantError: "must be an integer"},
		{name: "hex", body: `{"number": "0x0B"}`, wantStatus: 400, wantError: "decimal integer"},
		{name: "bool", body: `{"number": true}`, wantStatus: 400, wantError: "boolean"},
		{name: "null number", body: `{"number": null}`, wantStatus: 400, wantError: "null"},
		{name: "array number", body: `{"number": [11]}`, wantStatus: 400, wantError: "array"},
		{name: "object number", body: `{"number": {"v": 11}}`, wantStatus: 400, wantError: "object"},
		{name: "non-ASCII digits", body: `{"number": "١١"}`, wantStatus: 400, wantError: "ASCII"},
		{name: "over the digit cap", body: `{"number": ` + strings.Repeat("7", task.MaxDigits+1) + `}`, wantStatus: 400, wantError: "limit"},
		{name: "over the body limit", body: huge, wantStatus: 413, wantError: "larger than"},
		{name: "over the body limit, base64", body: base64.StdEncoding.EncodeToString([]byte(huge)), base64: true, wantStatus: 413},
		{name: "bad base64", body: "!!!", base64: true, wantStatus: 400, wantError: "base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := &api.Submit{Tasks: &fakeSubmitter{submitFunc: func(context.Context, task.Number) (task.Task, error) {
				t.Error("Submit called for a bad request")
				return task.Task{}, errors.New("unreachable")
			}}}
			req := fixture(t, "submit.json")
			req.Body, req.IsBase64Encoded = tt.body, tt.base64
			switch tt.method {
			case "":
			case "-": // a REST API (payload 1.0) event decoded as v2
				req.RequestContext.HTTP.Method = ""
			default:
				req.RequestContext.HTTP.Method = tt.method
			}
			switch tt.contentType {
			case "":
			case "-":
				delete(req.Headers, "content-type")
			default:
				req.Headers["content-type"] = tt.contentType
			}
			for k, v := range tt.headers {
				req.Headers[k] = v
			}
			resp, err := h.Handle(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if tt.method != "-" { // a v1 event never reaches an HTTP API's routes
				apitest.CheckEvent(t, req.RequestContext.HTTP.Method, req.RawPath, resp)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d (%s); want %d", resp.StatusCode, resp.Body, tt.wantStatus)
			}
			msg := decodeError(t, resp)
			if !strings.Contains(msg, tt.wantError) {
				t.Errorf("error = %q; want it to contain %q", msg, tt.wantError)
			}
			if len(msg) > 300 {
				t.Errorf("error is %d bytes; want a short message that does not echo the input", len(msg))
			}
			if tt.notWant != "" && strings.Contains(msg, tt.notWant) {
				t.Errorf("error = %q; want no %q", msg, tt.notWant)
			}
			if tt.wantStatus == 405 && resp.Headers["Allow"] != "POST" {
				t.Errorf("Allow = %q; want POST", resp.Headers["Allow"])
			}
			if strings.Contains(tt.wantError, "Content-Encoding") && resp.Headers["Accept-Encoding"] != "identity" {
				t.Errorf("Accept-Encoding = %q; want identity (RFC 7694)", resp.Headers["Accept-Encoding"])
			}
		})
	}
}

// gzipBase64 is body gzipped and base64-encoded, as API Gateway passes a
// binary body.
func gzipBase64(t *testing.T, body string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

func TestSubmitWithoutContentTypeIsJSON(t *testing.T) {
	t.Parallel()
	h := &api.Submit{Tasks: &fakeSubmitter{submitFunc: func(_ context.Context, n task.Number) (task.Task, error) {
		return task.Task{ID: task.NewID(), Number: n}, nil
	}}}
	req := fixture(t, "submit.json")
	delete(req.Headers, "content-type")
	for _, ct := range []string{"", "application/json; charset=utf-8", "application/json; charset=UTF-8", "application/json;charset=\"utf-8\"", "application/json; charset=us-ascii", "application/vnd.api+json"} {
		if ct != "" {
			req.Headers["content-type"] = ct
		}
		resp, _ := h.Handle(t.Context(), req)
		if resp.StatusCode != http.StatusAccepted {
			t.Errorf("Content-Type %q: status = %d (%s); want 202", ct, resp.StatusCode, resp.Body)
		}
	}
	// No content coding is none: identity, said or not, is accepted.
	for _, ce := range []string{"", "identity", " Identity "} {
		req.Headers["content-encoding"] = ce
		resp, _ := h.Handle(t.Context(), req)
		if resp.StatusCode != http.StatusAccepted {
			t.Errorf("Content-Encoding %q: status = %d (%s); want 202", ce, resp.StatusCode, resp.Body)
		}
	}
}

func TestSubmitUnavailable(t *testing.T) {
	t.Parallel()
	h := &api.Submit{Tasks: &fakeSubmitter{submitFunc: func(context.Context, task.Number) (task.Task, error) {
		return task.Task{}, task.ErrUnavailable
	}}}
	resp, _ := h.Handle(t.Context(), fixture(t, "submit.json"))
	apitest.CheckEvent(t, "POST", "/", resp)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Headers["Retry-After"] == "" {
		t.Fatalf("status = %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Headers["Retry-After"])
	}
	decodeError(t, resp)
}

const fixtureID = "3f2b8c1e-7d4a-4e59-9b1c-2a6f0e8d4c71"

func TestStatus(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	base := task.Task{ID: fixtureID, Number: "2305843009213693951", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
	started := base
	started.Status, started.StartedAt, started.Attempts = task.StatusStarted, t0.Add(time.Second), 1
	tests := []struct {
		name string
		task task.Task
		now  time.Time
		want string
	}{
		{
			name: "pending",
			task: func() task.Task { p := base; p.Status = task.StatusPending; return p }(),
			want: `{"task_id":"` + fixtureID + `","status":"PENDING","result":null,"attempts":0,"created_at":"2026-11-24T12:00:00Z","started_at":null,"finished_at":null}`,
		},
		{
			name: "started",
			task: started,
			want: `{"task_id":"` + fixtureID + `","status":"STARTED","result":null,"attempts":1,"created_at":"2026-11-24T12:00:00Z","started_at":"2026-11-24T12:00:01Z","finished_at":null}`,
		},
		{
			name: "success keeps every digit",
			task: task.Apply(started, task.Outcome{Status: task.StatusSuccess, IsPrime: true, FinishedAt: t0.Add(1500 * time.Millisecond), ExpiresAt: t0.Add(25 * time.Hour)}),
			want: `{"task_id":"` + fixtureID + `","status":"SUCCESS","result":{"number":2305843009213693951,"is_prime":true},"attempts":1,"created_at":"2026-11-24T12:00:00Z","started_at":"2026-11-24T12:00:01Z","finished_at":"2026-11-24T12:00:01.5Z"}`,
		},
		{
			name: "failure says why",
			task: task.Apply(started, task.Outcome{Status: task.StatusFailure, Error: "check failed", FinishedAt: t0.Add(2 * time.Second), ExpiresAt: t0.Add(25 * time.Hour)}),
			want: `{"task_id":"` + fixtureID + `","status":"FAILURE","result":null,"error":"check failed","attempts":1,"created_at":"2026-11-24T12:00:00Z","started_at":"2026-11-24T12:00:01Z","finished_at":"2026-11-24T12:00:02Z"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := memory.NewStore()
			if err := store.Create(t.Context(), tt.task); err != nil {
				t.Fatal(err)
			}
			h := &api.Status{Store: store, Now: func() time.Time { return t0.Add(time.Minute) }}
			resp, err := h.Handle(t.Context(), fixture(t, "status.json"))
			if err != nil {
				t.Fatal(err)
			}
			apitest.CheckEvent(t, "GET", "/"+fixtureID, resp)
			if resp.StatusCode != http.StatusOK || resp.Body != tt.want {
				t.Errorf("got %d %s;\nwant 200 %s", resp.StatusCode, resp.Body, tt.want)
			}
			// UUIDs are read without regard to case.
			upper := fixture(t, "status.json")
			upper.PathParameters["task_id"] = strings.ToUpper(fixtureID)
			if resp, err := h.Handle(t.Context(), upper); err != nil || resp.StatusCode != http.StatusOK || resp.Body != tt.want {
				t.Errorf("GET of the id in uppercase = %d %s, %v;\nwant 200 %s", resp.StatusCode, resp.Body, err, tt.want)
			}
		})
	}
}

type fakeGetter struct {
	getFunc func(ctx context.Context, id string) (task.Task, error)
}

func (f *fakeGetter) Get(ctx context.Context, id string) (task.Task, error) {
	return f.getFunc(ctx, id)
}

func TestStatusErrors(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	expired := task.Task{ID: fixtureID, Status: task.StatusSuccess, Number: "11", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	tests := []struct {
		name       string
		method     string
		params     map[string]string
		getErr     error
		task       task.Task
		wantStatus int
		wantAllow  string
	}{
		{name: "unknown id", getErr: task.ErrNotFound, wantStatus: 404},
		{name: "malformed id", params: map[string]string{"task_id": "not-a-uuid"}, wantStatus: 404},
		{name: "uppercase id", params: map[string]string{"task_id": strings.ToUpper(fixtureID)}, wantStatus: 404},
		{name: "no route", params: map[string]string{}, wantStatus: 404},
		{name: "expired", task: expired, wantStatus: 404},
		{name: "POST on a task", method: "POST", wantStatus: 405, wantAllow: "GET, HEAD"},
		{name: "PUT on a task", method: "PUT", wantStatus: 405, wantAllow: "GET, HEAD"},
		{name: "store down", getErr: errors.New("connection refused"), wantStatus: 503},
		{name: "damaged record", getErr: fmt.Errorf("decode task: %w: checksum mismatch", task.ErrDamaged), wantStatus: 500},
		{name: "REST API (v1) event", method: "-", wantStatus: 400},
		{name: "REST API (v1) event, no route", method: "-", params: map[string]string{}, wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := &api.Status{
				Store: &fakeGetter{getFunc: func(_ context.Context, id string) (task.Task, error) {
					if tt.getErr != nil || tt.task.ID == "" {
						return task.Task{}, errors.Join(tt.getErr, task.ErrNotFound)
					}
					return tt.task, nil
				}},
				Now: func() time.Time { return t0.Add(2 * time.Hour) },
			}
			if tt.getErr != nil && !errors.Is(tt.getErr, task.ErrNotFound) {
				h.Store = &fakeGetter{getFunc: func(context.Context, string) (task.Task, error) { return task.Task{}, tt.getErr }}
			}
			req := fixture(t, "status.json")
			switch tt.method {
			case "":
			case "-": // a REST API (payload 1.0) event decoded as v2
				req.RequestContext.HTTP.Method = ""
			default:
				req.RequestContext.HTTP.Method = tt.method
			}
			if tt.params != nil {
				req.PathParameters = tt.params
				if len(tt.params) == 0 {
					req.PathParameters = nil
				}
			}
			resp, err := h.Handle(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if tt.method != "-" { // a v1 event never reaches an HTTP API's routes
				apitest.CheckEvent(t, req.RequestContext.HTTP.Method, req.RawPath, resp)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d (%s); want %d", resp.StatusCode, resp.Body, tt.wantStatus)
			}
			decodeError(t, resp)
			if resp.Headers["Allow"] != tt.wantAllow {
				t.Errorf("Allow = %q; want %q", resp.Headers["Allow"], tt.wantAllow)
			}
		})
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{`{"number": 11}`, `{"number": "11"}`, `{"number": 1.5}`, `[]`, `null`, `{"number": "١"}`, `{"number":-0}`, `{"number": 1e400}`,
		`{"numbers": [11, "13", -1]}`, `{"numbers": []}`, `{"numbers": [1.5]}`, `{"number": 1, "numbers": [2]}`, `{"numbers": null}`, `{"numbers": "11"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ns, batch, err := api.ParseRequest(body)
		if err != nil {
			if len(err.Error()) > 300 {
				t.Fatalf("error of %d bytes echoes too much input", len(err.Error()))
			}
			return
		}
		if !utf8.Valid(body) {
			t.Fatalf("ParseRequest accepted %q, which is not UTF-8", body)
		}
		if len(ns) == 0 || len(ns) > task.MaxBatch || (!batch && len(ns) != 1) {
			t.Fatalf("ParseRequest(%q) = %d numbers, batch %v; want 1 to %d, and 1 unless batch", body, len(ns), batch, task.MaxBatch)
		}
		for _, n := range ns {
			if _, err := task.ParseNumber(string(n)); err != nil {
				t.Fatalf("ParseRequest accepted %q, which is not canonical: %v", n, err)
			}
		}
		// Keys match exactly ("Numbers" is not "numbers"), as ParseRequest
		// reads them.
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
			t.Fatalf("ParseRequest accepted %q, which is not a JSON object: %v", body, err)
		}
		var list []json.RawMessage
		_, one := fields["number"]
		if batch && (one || json.Unmarshal(fields["numbers"], &list) != nil || len(list) != len(ns)) {
			t.Fatalf("ParseRequest(%q): batch of %d numbers; the body has number %v and numbers %s", body, len(ns), one, fields["numbers"])
		}
		if !batch && !one {
			t.Fatalf("ParseRequest(%q): one number; the body has no \"number\"", body)
		}
	})
}

// TestMissingResource: a table or queue that does not exist is a 500
// naming it as a deployment fault, without Retry-After, on every route
// that reaches a backend; an outage stays a 503.
func TestMissingResource(t *testing.T) {
	t.Parallel()
	noTable := fmt.Errorf("get task %s: %w", fixtureID,
		&task.MissingResourceError{Kind: "table", Name: "asyncprime-tasks", Err: errors.New("ResourceNotFoundException")})
	noQueue := fmt.Errorf("not accepted: queue task %s: %w", fixtureID,
		&task.MissingResourceError{Kind: "queue", Name: "asyncprime-tasks-big", Err: errors.New("QueueDoesNotExist")})
	outage := fmt.Errorf("%w: connection refused", task.ErrUnavailable)
	tests := []struct {
		name       string
		method     string
		err        error
		wantStatus int
		wantError  string // the error contains
	}{
		{name: "submit, no table", method: http.MethodPost, err: noTable, wantStatus: 500, wantError: "the table asyncprime-tasks that the service needs does not exist"},
		{name: "submit, no queue", method: http.MethodPost, err: noQueue, wantStatus: 500, wantError: "the queue asyncprime-tasks-big that the service needs does not exist"},
		{name: "submit, outage", method: http.MethodPost, err: outage, wantStatus: 503, wantError: "temporarily unavailable"},
		{name: "submit, damaged key claim", method: http.MethodPost, err: fmt.Errorf("not accepted: decode claim k: %w: checksum mismatch", task.ErrDamaged), wantStatus: 500, wantError: "the stored record of this Idempotency-Key is damaged"},
		{name: "get, no table", method: http.MethodGet, err: noTable, wantStatus: 500, wantError: "the table asyncprime-tasks that the service needs does not exist"},
		{name: "get, outage", method: http.MethodGet, err: outage, wantStatus: 503, wantError: "temporarily unavailable"},
		{name: "delete, no table", method: http.MethodDelete, err: noTable, wantStatus: 500, wantError: "the table asyncprime-tasks that the service needs does not exist"},
		{name: "delete, outage", method: http.MethodDelete, err: outage, wantStatus: 503, wantError: "temporarily unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				resp events.APIGatewayV2HTTPResponse
				path = "/" + fixtureID
			)
			switch tt.method {
			case http.MethodPost:
				h := &api.Submit{Tasks: &fakeSubmitter{acceptFunc: func(context.Context, task.Request) (task.Receipt, error) {
					return task.Receipt{}, tt.err
				}}}
				resp, _ = h.Handle(t.Context(), fixture(t, "submit.json"))
				path = "/"
			default:
				h := &api.Status{
					Store:   &fakeGetter{getFunc: func(context.Context, string) (task.Task, error) { return task.Task{}, tt.err }},
					Revoker: revokerFunc(func() error { return tt.err }),
				}
				req := fixture(t, "status.json")
				req.RequestContext.HTTP.Method = tt.method
				resp, _ = h.Handle(t.Context(), req)
			}
			apitest.CheckEvent(t, tt.method, path, resp)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d (%s); want %d", resp.StatusCode, resp.Body, tt.wantStatus)
			}
			if got := decodeError(t, resp); !strings.Contains(got, tt.wantError) ||
				(errors.Is(tt.err, task.ErrMissingResource) && !strings.Contains(got, "deployment")) {
				t.Errorf("error %q; want it to contain %q (and, for a missing resource, say it is a deployment fault)", got, tt.wantError)
			}
			if got, retry := resp.Headers["Retry-After"], tt.wantStatus == 503; (got != "") != retry {
				t.Errorf("Retry-After = %q; want one: %v", got, retry)
			}
		})
	}
}
