package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/task"
)

// MaxBodyBytes is the largest request body submit accepts; more is 413.
// It leaves ample room for a number of task.MaxDigits digits.
const MaxBodyBytes = 16 << 10

// Submitter accepts tasks: one number or a batch, with an optional
// idempotency key. *task.Submitter implements it.
type Submitter interface {
	Accept(ctx context.Context, r task.Request) (task.Receipt, error)
}

// Submit handles POST /: it validates the body, records the task and queues
// its job, and answers 202 with the task id.
type Submit struct {
	Tasks  Submitter
	Logger *slog.Logger // slog.Default() if nil
}

// SubmitResponse is the body of a 202 for {"number": n}.
type SubmitResponse struct {
	Status string `json:"status"`
	TaskID string `json:"task_id"`
}

// BatchResponse is the body of a 202 for {"numbers": [...]}: the task ids
// in the order of the numbers.
type BatchResponse struct {
	Status  string   `json:"status"`
	TaskIDs []string `json:"task_ids"`
}

// HeaderIdempotencyKey names the request header that makes a submit safe
// to retry.
const HeaderIdempotencyKey = "Idempotency-Key"

// PollAfter is the Retry-After, in seconds, of a 202 and of a PENDING or
// STARTED task: when a client should poll again. Most checks take
// microseconds and a task waits in the queue for milliseconds, so one
// second answers nearly every task at the first poll; polls are the
// largest line of the AWS bill.
const PollAfter = "1"

// Handle is the Lambda handler.
func (h *Submit) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	switch m := req.RequestContext.HTTP.Method; m {
	case http.MethodPost:
	case http.MethodOptions:
		return preflight(http.MethodPost), nil
	default:
		return methodNotAllowed(m, http.MethodPost), nil
	}
	// Neither API Gateway nor this handler decodes a content coding: a
	// compressed body, or one labelled so, would be read as plain bytes.
	if ce := strings.TrimSpace(header(req.Headers, "content-encoding")); ce != "" && !strings.EqualFold(ce, "identity") {
		return jsonResponse(http.StatusUnsupportedMediaType,
			Error{Error: fmt.Sprintf("Content-Encoding %s is not supported; send the body uncompressed, without Content-Encoding", task.Excerpt(ce))},
			map[string]string{"Accept-Encoding": "identity"}), nil // RFC 7694
	}
	r, status, msg := parseSubmit(req)
	if status != 0 {
		return errorResponse(status, msg), nil
	}
	rc, err := h.Tasks.Accept(ctx, r)
	switch {
	case errors.Is(err, task.ErrKeyReused):
		return errorResponse(http.StatusUnprocessableEntity,
			"this Idempotency-Key was used for a different request within the retention; use a new key for a new request"), nil
	case errors.Is(err, task.ErrDamaged):
		// The stored claim of the request's Idempotency-Key, the one
		// record a submit reads: never a guess at the task ids it held.
		cmp.Or(h.Logger, slog.Default()).ErrorContext(ctx, "the stored record of an idempotency key is damaged", slog.String("key", task.Excerpt(r.Key)), slog.Any("error", err))
		return errorResponse(http.StatusInternalServerError,
			"the stored record of this Idempotency-Key is damaged (it failed its integrity check), so the tasks it names cannot be given; the damage was logged for the operator; the task was not accepted: send the request with a new Idempotency-Key"), nil
	case err != nil:
		cmp.Or(h.Logger, slog.Default()).ErrorContext(ctx, "submit failed", slog.Int("numbers", len(r.Numbers)), slog.Any("error", err))
		return backendFailed(err, "the task was not accepted", "the task was not accepted, submit it again in a few seconds"), nil
	}
	// One line per request: DEBUG, so that the default level logs no line
	// per submit (CloudWatch Logs bills each byte; the metrics count them).
	cmp.Or(h.Logger, slog.Default()).DebugContext(ctx, "tasks submitted", slog.Any("task_ids", rc.TaskIDs), slog.Bool("replayed", rc.Replayed))
	return accepted(rc), nil
}

// accepted renders a receipt; a replay renders the same.
func accepted(rc task.Receipt) events.APIGatewayV2HTTPResponse {
	if rc.Batch {
		return jsonResponse(http.StatusAccepted, BatchResponse{Status: "success", TaskIDs: rc.TaskIDs},
			map[string]string{"Retry-After": PollAfter})
	}
	return jsonResponse(http.StatusAccepted,
		SubmitResponse{Status: "success", TaskID: rc.TaskIDs[0]},
		map[string]string{"Location": "/" + rc.TaskIDs[0], "Retry-After": PollAfter})
}

// parseSubmit validates a submit request. It returns the request, or the
// status and message of the error response.
func parseSubmit(req events.APIGatewayV2HTTPRequest) (task.Request, int, string) {
	if ct := header(req.Headers, "content-type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
			return task.Request{}, http.StatusUnsupportedMediaType,
				fmt.Sprintf("Content-Type %s is not supported; send application/json", task.Excerpt(ct))
		}
		// JSON is UTF-8 (RFC 8259); ASCII is a part of it.
		if cs, ok := params["charset"]; ok && !slices.Contains([]string{"utf-8", "utf8", "us-ascii"}, strings.ToLower(cs)) {
			return task.Request{}, http.StatusUnsupportedMediaType,
				fmt.Sprintf("charset %s is not supported; send UTF-8 JSON, as application/json or application/json; charset=utf-8", task.Excerpt(cs))
		}
	}
	var key string
	if k, ok := lookupHeader(req.Headers, HeaderIdempotencyKey); ok {
		if strings.Contains(k, ",") {
			// API Gateway, as the local front, joins a repeated header's
			// values with commas; a key never holds one.
			return task.Request{}, http.StatusBadRequest,
				"send one Idempotency-Key: it was sent more than once, or holds a comma (a key may hold only letters, digits and - _ . : ~ + / =)"
		}
		if err := task.ValidKey(k); err != nil {
			return task.Request{}, http.StatusBadRequest, err.Error()
		}
		key = k
	}
	body := req.Body
	if req.IsBase64Encoded {
		if base64.StdEncoding.DecodedLen(len(body)) > MaxBodyBytes+2 {
			return task.Request{}, http.StatusRequestEntityTooLarge, TooLarge
		}
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return task.Request{}, http.StatusBadRequest, "the body is not valid base64"
		}
		body = string(b)
	}
	if len(body) > MaxBodyBytes {
		return task.Request{}, http.StatusRequestEntityTooLarge, TooLarge
	}
	numbers, batch, err := ParseRequest([]byte(body))
	if err != nil {
		return task.Request{}, http.StatusBadRequest, err.Error()
	}
	return task.Request{Numbers: numbers, Batch: batch, Key: key}, 0, ""
}

// TooLarge is the error message of a 413: the body is over MaxBodyBytes.
var TooLarge = fmt.Sprintf("the body is larger than %d bytes; send {\"number\": N} with at most %d digits, or fewer or shorter \"numbers\"", MaxBodyBytes, task.MaxDigits)

// ParseRequest parses a submit body: a JSON object with either "number"
// (one number: a JSON integer or a string of decimal digits) or "numbers", an array of 1 to task.MaxBatch
// numbers of the same form; batch reports the second. One bad entry
// rejects the whole body, with an error naming its index. Other fields are
// ignored.
func ParseRequest(body []byte) (numbers []task.Number, batch bool, err error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, false, errors.New(`the body is empty; send a JSON object like {"number": 11} or {"numbers": [11, 13]}`)
	}
	if !utf8.Valid(body) {
		// encoding/json would read each bad byte as U+FFFD, silently.
		return nil, false, errors.New(`the body is not valid UTF-8; send UTF-8 JSON like {"number": 11}`)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, false, fmt.Errorf(`the body must be a JSON object like {"number": 11}, not a JSON %s`, typeErr.Value)
		}
		if bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("\uFEFF")) {
			// Editors on Windows save one; RFC 8259 lets a parser refuse it.
			return nil, false, errors.New(`the body starts with a byte order mark (U+FEFF); send the JSON without it, like {"number": 11}`)
		}
		if _, syntax := errors.AsType[*json.SyntaxError](err); syntax || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, false, errors.New(`the body is not valid JSON; send a JSON object like {"number": 11}`)
		}
		return nil, false, fmt.Errorf(`the body is not valid JSON (%v); send a JSON object like {"number": 11}`, err)
	}
	if fields == nil {
		return nil, false, errors.New(`the body must be a JSON object like {"number": 11}, not null`)
	}
	raw, one := fields["number"]
	rawList, many := fields["numbers"]
	switch {
	case (one || many) && repeated(body) != "":
		// JSON decoders disagree on which of two values wins: say so
		// rather than guess.
		return nil, false, fmt.Errorf(`the body has the field %q more than once; send it once`, repeated(body))
	case one && many:
		return nil, false, errors.New(`the body has both "number" and "numbers"; send one of them`)
	case one:
		n, err := task.ParseJSONNumber(raw)
		if err != nil {
			return nil, false, err
		}
		return []task.Number{n}, false, nil
	case !many:
		return nil, false, errors.New(`the body has no "number" field; send a JSON object like {"number": 11} or {"numbers": [11, 13]}`)
	}
	var list []json.RawMessage
	if t := strings.TrimSpace(string(rawList)); !strings.HasPrefix(t, "[") || json.Unmarshal(rawList, &list) != nil {
		return nil, false, fmt.Errorf(`"numbers" must be an array of 1 to %d numbers, like {"numbers": [11, 13]}`, task.MaxBatch)
	}
	if len(list) == 0 || len(list) > task.MaxBatch {
		return nil, false, fmt.Errorf(`"numbers" holds %d entries; send 1 to %d`, len(list), task.MaxBatch)
	}
	numbers = make([]task.Number, len(list))
	for i, raw := range list {
		n, err := task.ParseJSONNumber(raw)
		if err != nil {
			return nil, false, fmt.Errorf(`"numbers"[%d] is not valid (nothing was submitted): %w`, i, err)
		}
		numbers[i] = n
	}
	return numbers, true, nil
}

// repeated returns "number" or "numbers" if the JSON object in body holds
// that field more than once at its top level (after unescaping), or "".
func repeated(body []byte) string {
	// A name can repeat only if "number stands twice in the body, or if
	// it is escaped (a backslash): most bodies need no second parse.
	if bytes.IndexByte(body, '\\') < 0 && bytes.Count(body, []byte(`"number`)) < 2 {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	seen := make(map[string]bool, 2)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		name, _ := tok.(string)
		if seen[name] {
			return name
		}
		if name == "number" || name == "numbers" {
			seen[name] = true
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return ""
		}
	}
	return ""
}

// header returns a header's value. API Gateway lowercases header names in
// payload format 2.0; other callers may not.
func header(h map[string]string, name string) string {
	v, _ := lookupHeader(h, name)
	return v
}

// lookupHeader returns a header's value and whether it was sent.
func lookupHeader(h map[string]string, name string) (string, bool) {
	if v, ok := h[strings.ToLower(name)]; ok {
		return v, true
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}
