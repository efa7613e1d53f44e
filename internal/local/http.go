package local

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime"
	"github.com/asyncprime/asyncprime/internal/api"
)

// HTTPFunc is the signature of an API Gateway HTTP API Lambda handler.
type HTTPFunc func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// API serves the HTTP API locally, routing as the template's HTTP API does:
// POST / and ANY / to submit, GET /{task_id}, DELETE /{task_id}, ANY
// /{task_id} and $default to status. GET /openapi.yaml serves the API's
// OpenAPI document.
type API struct {
	Submit HTTPFunc
	Status HTTPFunc
	Logger *slog.Logger

	inflight sync.WaitGroup // handler calls in progress
}

// Wait waits for the handler calls in progress, including those whose
// connection was closed, to return.
func (a *API) Wait() { a.inflight.Wait() }

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.inflight.Add(1)
	defer a.inflight.Done()
	if r.ContentLength > api.MaxBodyBytes && (r.ContentLength > MaxDrainBytes || expectsContinue(r)) {
		// A body declared too large, that the client waits to be asked
		// for (Expect: 100-continue) or that is over API Gateway's payload
		// limit, which API Gateway refuses itself: answer 413 at once,
		// without asking for or reading it.
		w.Header().Set("Connection", "close")
		writeJSONError(w, http.StatusRequestEntityTooLarge, api.TooLarge)
		return
	}
	// A body past api.MaxBodyBytes is passed on cut one byte past it, so
	// that the handler answers 413 without the server reading it all.
	var body []byte
	if r.Body != nil && r.Body != http.NoBody { // a GET has none: nothing to read
		var err error
		if body, err = io.ReadAll(io.LimitReader(r.Body, api.MaxBodyBytes+1)); err != nil {
			writeJSONError(w, http.StatusBadRequest, "could not read the request body")
			return
		}
	}
	if len(body) > api.MaxBodyBytes {
		drain(w, r)
	}
	if r.URL.Path == "/openapi.yaml" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		serveOpenAPI(w)
		return
	}
	routeKey, params, fn := a.route(r.Method, r.URL.Path)
	ev := Event(r, body, routeKey, params)
	// API Gateway does not cancel a Lambda invocation when its client goes
	// away, and a client that half-closes after its request (FIN) still
	// reads the answer: the handlers bound their own work, so the request's
	// cancellation is not passed on.
	resp, err := fn(context.WithoutCancel(r.Context()), ev)
	if err != nil {
		// Lambda reports a handler error to API Gateway, which answers 500.
		cmp.Or(a.Logger, slog.Default()).ErrorContext(r.Context(), "handler failed", slog.String("route", routeKey), slog.Any("error", err))
		writeJSONError(w, http.StatusInternalServerError, "internal server error")
		return
	}
	writeResponse(w, resp)
}

func (a *API) route(method, path string) (string, map[string]string, HTTPFunc) {
	switch {
	case path == "/" && method == http.MethodPost:
		return api.RouteSubmit, nil, a.Submit
	case path == "/":
		return api.RouteAnyRoot, nil, a.Submit
	case len(path) > 1 && strings.IndexByte(path[1:], '/') < 0:
		params := map[string]string{api.PathParamTaskID: path[1:]}
		switch method {
		case http.MethodGet:
			return api.RouteStatus, params, a.Status
		case http.MethodDelete:
			return api.RouteCancel, params, a.Status
		}
		return api.RouteAnyTask, params, a.Status
	default:
		return api.RouteDefault, nil, a.Status
	}
}

// Event builds the API Gateway HTTP API (payload format 2.0) event for r.
func Event(r *http.Request, body []byte, routeKey string, pathParams map[string]string) events.APIGatewayV2HTTPRequest {
	headers := make(map[string]string, len(r.Header)+1)
	for k, v := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	headers["host"] = r.Host
	var cookies []string
	for _, c := range r.Cookies() {
		cookies = append(cookies, c.String())
	}
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = make(map[string]string, len(q))
		for k, v := range q {
			query[k] = strings.Join(v, ",")
		}
	}
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	now := time.Now()
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        pathParams,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    "000000000000",
			Stage:        "$default",
			RequestID:    requestID(),
			APIID:        "local",
			DomainName:   r.Host,
			DomainPrefix: domainPrefix(r.Host),
			Time:         now.Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if utf8.Valid(body) {
		ev.Body = string(body)
	} else {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	return ev
}

// domainPrefix is the host's first label, as API Gateway's
// requestContext.domainPrefix.
func domainPrefix(host string) string {
	prefix, _, _ := strings.Cut(host, ".")
	return prefix
}

func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	if resp.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
			w.WriteHeader(status)
			w.Write(b)
			return
		}
	}
	w.WriteHeader(status)
	io.WriteString(w, resp.Body)
}

// serveOpenAPI writes openapi.yaml, the API's contract.
func serveOpenAPI(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(asyncprime.OpenAPI)
}

// expectsContinue reports whether the client waits for 100 Continue before
// it sends its body.
func expectsContinue(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Expect"), "100-continue")
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(api.Error{Error: msg})
	w.Write(b)
}

func requestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
