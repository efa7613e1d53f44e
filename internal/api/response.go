package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/task"
)

// Error is the body of every error response.
type Error struct {
	Error string `json:"error"`
}

func jsonResponse(status int, body any, headers map[string]string) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(body)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"internal error: could not encode the response"}`)
	}
	h := make(map[string]string, 2+len(headers))
	h["Content-Type"], h["Cache-Control"] = "application/json", "no-store"
	for k, v := range headers {
		h[k] = v
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: h, Body: string(b)}
}

func errorResponse(status int, msg string) events.APIGatewayV2HTTPResponse {
	return jsonResponse(status, Error{Error: msg}, nil)
}

// preflight answers OPTIONS: 204, no body. A browser's CORS preflight
// reaches the functions through the API's ANY routes and its OPTIONS
// routes (which need no authorization); on AWS, API Gateway adds the
// API's CORS headers to this answer and drops any the function sets.
func preflight(allow string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNoContent, Headers: map[string]string{"Allow": allow, "Cache-Control": "no-store"}}
}

func methodNotAllowed(method string, allow string) events.APIGatewayV2HTTPResponse {
	if method == "" {
		// API Gateway's REST API (payload 1.0) and other event shapes have
		// no requestContext.http.method.
		return jsonResponse(http.StatusBadRequest,
			Error{Error: "the event is not an API Gateway HTTP API (payload format 2.0) event: it has no requestContext.http.method"}, nil)
	}
	return jsonResponse(http.StatusMethodNotAllowed,
		Error{Error: "method " + task.Excerpt(method) + " is not allowed here; use " + allow},
		map[string]string{"Allow": allow})
}

// backendFailed answers a request whose store or queue call failed with
// err. A resource the service needs that does not exist (see
// task.ErrMissingResource) is a deployment fault that no retry mends: 500,
// naming it, with what says what became of the request, and no
// Retry-After. Any other failure is an outage: 503 (unavailable), with
// retry.
func backendFailed(err error, what, retry string) events.APIGatewayV2HTTPResponse {
	if e, ok := errors.AsType[*task.MissingResourceError](err); ok {
		return errorResponse(http.StatusInternalServerError,
			"the "+e.Kind+" "+e.Name+" that the service needs does not exist: this is a fault in its deployment or configuration, not a transient one, "+
				"and retrying will not help until an operator restores it; "+what)
	}
	return unavailable(retry)
}

// unavailable answers when the store or the queue did not answer; the
// client may retry.
func unavailable(msg string) events.APIGatewayV2HTTPResponse {
	return jsonResponse(http.StatusServiceUnavailable,
		Error{Error: "the service is temporarily unavailable; " + msg},
		map[string]string{"Retry-After": "1"})
}
