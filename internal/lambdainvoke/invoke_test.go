package lambdainvoke_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/asyncprime/asyncprime/internal/lambdainvoke"
)

// fakeLambda serves the Invoke API the way Lambda, sam local start-lambda
// and the RIE do, with the answer a test chooses.
type fakeLambda struct {
	status  int
	header  map[string]string
	payload string

	got struct {
		path, invocationType string
		event                events.SQSEvent
	}
}

func (f *fakeLambda) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.got.path = r.URL.Path
	f.got.invocationType = r.Header.Get("X-Amz-Invocation-Type")
	body, _ := io.ReadAll(r.Body)
	json.Unmarshal(body, &f.got.event)
	for k, v := range f.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(f.status)
	io.WriteString(w, f.payload)
}

func staticConfig() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}
}

func batch(ids ...string) events.SQSEvent {
	var ev events.SQSEvent
	for _, id := range ids {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: id, Body: `{"task_id":"x"}`})
	}
	return ev
}

// TestHandle runs the handler through the real SDK client against a fake
// Invoke API endpoint, for every kind of answer.
func TestHandle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fake       fakeLambda
		wantFailed []string
		wantErr    string // "" for success
		wantFnErr  bool   // the error is a *FunctionError
	}{
		{name: "success", fake: fakeLambda{status: 200, payload: `{"batchItemFailures":[]}`}},
		{name: "success, null failures (Go's encoding)", fake: fakeLambda{status: 200, payload: `{"batchItemFailures":null}`}},
		{name: "success, empty response", fake: fakeLambda{status: 200, payload: ``}},
		{name: "success, null response", fake: fakeLambda{status: 200, payload: `null`}},
		{
			name:       "partial batch failure",
			fake:       fakeLambda{status: 200, payload: `{"batchItemFailures":[{"itemIdentifier":"m2"}]}`},
			wantFailed: []string{"m2"},
		},
		{
			name:      "function error with X-Amz-Function-Error (Lambda, sam local)",
			fake:      fakeLambda{status: 200, header: map[string]string{"X-Amz-Function-Error": "Unhandled"}, payload: `{"errorMessage":"boom","errorType":"errorString"}`},
			wantErr:   "Unhandled",
			wantFnErr: true,
		},
		{
			name:      "function timeout as Lambda reports it",
			fake:      fakeLambda{status: 200, header: map[string]string{"X-Amz-Function-Error": "Unhandled"}, payload: `{"errorMessage":"2026-12-01T00:00:00Z id Task timed out after 10.01 seconds"}`},
			wantErr:   "Task timed out",
			wantFnErr: true,
		},
		{
			name:      "error payload without the header (the RIE)",
			fake:      fakeLambda{status: 200, payload: `{"errorMessage":"json: cannot unmarshal","errorType":"UnmarshalTypeError"}`},
			wantErr:   "UnmarshalTypeError",
			wantFnErr: true,
		},
		{
			name:    "timeout as the RIE reports it: text, status 200",
			fake:    fakeLambda{status: 200, payload: `Task timed out after 1.00 seconds`},
			wantErr: "not a partial batch response",
		},
		{
			name:    "init failure: the RIE answers 502",
			fake:    fakeLambda{status: 502},
			wantErr: "502",
		},
		{
			name:    "unknown function",
			fake:    fakeLambda{status: 404, header: map[string]string{"X-Amzn-Errortype": "ResourceNotFoundException"}, payload: `{"message":"Function not found"}`},
			wantErr: "ResourceNotFound",
		},
		{
			name:    "an empty itemIdentifier fails the batch, as in Lambda",
			fake:    fakeLambda{status: 200, payload: `{"batchItemFailures":[{"itemIdentifier":""}]}`},
			wantErr: "empty itemIdentifier",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := tt.fake
			srv := httptest.NewServer(&fake)
			defer srv.Close()
			h := &lambdainvoke.Handler{
				Client:       lambdainvoke.NewClient(staticConfig(), srv.URL),
				FunctionName: "WorkerFunction",
			}
			resp, err := h.Handle(t.Context(), batch("m1", "m2"))

			if want := "/2015-03-31/functions/WorkerFunction/invocations"; fake.got.path != want {
				t.Errorf("request path = %q; want %q", fake.got.path, want)
			}
			if fake.got.invocationType != "RequestResponse" {
				t.Errorf("X-Amz-Invocation-Type = %q; want RequestResponse", fake.got.invocationType)
			}
			if len(fake.got.event.Records) != 2 || fake.got.event.Records[1].MessageId != "m2" {
				t.Errorf("payload = %+v; want the batch m1, m2", fake.got.event)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Handle: error %v; want one containing %q", err, tt.wantErr)
				}
				if _, ok := errors.AsType[*lambdainvoke.FunctionError](err); ok != tt.wantFnErr {
					t.Errorf("Handle: error %T is a *FunctionError: %v; want %v", err, ok, tt.wantFnErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			var failed []string
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			if !slices.Equal(failed, tt.wantFailed) {
				t.Errorf("batchItemFailures = %v; want %v", failed, tt.wantFailed)
			}
		})
	}
}

// TestHandleDeadline: an invocation that does not answer within the
// caller's deadline (sam local still starting the container, a stuck
// function) fails the batch, after exactly one request.
func TestHandleDeadline(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // then the server notices the client leaving
		arrived <- struct{}{}
		<-r.Context().Done() // never answers
	}))
	defer srv.Close()
	h := &lambdainvoke.Handler{
		Client:       lambdainvoke.NewClient(staticConfig(), srv.URL),
		FunctionName: "WorkerFunction",
	}
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived // the function has the batch; now the deadline passes
		cancel()
	}()
	_, err := h.Handle(ctx, batch("m1"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Handle: error %v; want context.Canceled", err)
	}
	srv.Close()
	if n := len(arrived); n != 0 {
		t.Errorf("%d more requests after the first; want none (no SDK retry: SQS redelivers the batch)", n)
	}
}
