package local_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"number": 11}`
	if _, err := conn.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n" + body)); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("status = %d; want %d", resp.StatusCode, http.StatusAccepted)
	}
}

// Each handler call is bounded by the function's timeout, as Lambda bounds
// it on AWS, so that a backend that hangs cannot hold a request longer.
func TestHandlerCallsHaveTheFunctionTimeout(t *testing.T) {
	t.Parallel()
	type seen struct {
		deadline time.Time
		ok       bool
	}
	got := make(chan seen, 1)
	fn := func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		d, ok := ctx.Deadline()
		got <- seen{d, ok}
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusAccepted}, nil
	}
	srv := httptest.NewServer(&local.API{Submit: fn, Status: fn, Logger: quiet()})
	t.Cleanup(srv.Close)
	resp, err := http.Post(srv.URL+"/", "application/json", strings.NewReader(`{"number": 11}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	after := time.Now()
	s := <-got
	if !s.ok || s.deadline.After(after.Add(local.DefaultFunctionTimeout)) {
		t.Errorf("handler deadline = %v (set %v); want one within %v of the request", s.deadline, s.ok, local.DefaultFunctionTimeout)
	}
}
