package local_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/asyncprime/asyncprime/internal/local"
)

// A client that half-closes its connection after sending the request still
// gets the handler's answer: the handler's context is not cancelled, as API
// Gateway does not cancel a Lambda when its client goes away.
func TestHalfClosedClientGetsTheAnswer(t *testing.T) {
	t.Parallel()
	reqCtx := make(chan context.Context, 1)
	submit := func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		// Wait until the server has seen the client's FIN and cancelled the
		// request's own context; then answer as submit would if its context
		// were cancelled.
		<-(<-reqCtx).Done()
		if ctx.Err() != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusServiceUnavailable}, nil
		}
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusAccepted}, nil
	}
	a := &local.API{Submit: submit, Status: submit, Logger: quiet()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqCtx <- r.Context()
		a.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	resp := rawRequest(t, srv.Listener.Addr().String(),
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n"+`{"number": 11}`, true)
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("status = %d; want %d", resp.StatusCode, http.StatusAccepted)
	}
}
