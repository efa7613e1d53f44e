// Package lambdainvoke delivers SQS batches to a Lambda function through
// the Lambda Invoke API, as Lambda's own SQS event source mapping does: one
// synchronous (RequestResponse) invocation per batch, the events.SQSEvent as
// the payload, the events.SQSEventResponse (partial batch failures) back.
//
// The endpoint can be real Lambda, LocalStack, `sam local start-lambda`
// (http://127.0.0.1:3001, where the function name is the template's logical
// id, WorkerFunction) or the Lambda Runtime Interface Emulator (which serves
// the same path with the name "function"). Handler.Handle has the local
// poller's handler signature, so the poller (internal/local) becomes the
// SQS trigger that `sam local` lacks.
package lambdainvoke

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// API is the part of the Lambda client the handler uses.
type API interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var _ API = (*lambda.Client)(nil)

// Handler invokes one function with each batch.
type Handler struct {
	Client API
	// FunctionName is the name, ARN or (for sam local) logical id of the
	// function.
	FunctionName string
}

// Handle invokes the function synchronously with the batch and returns its
// partial batch response. Like the event source mapping, it fails the
// whole batch (returns an error) when the invocation fails: the call did
// not complete (a timeout, a refused connection, a 5xx such as an init
// failure), the function returned an error (X-Amz-Function-Error, or an
// error payload from an emulator that does not set the header), or the
// response is not a valid partial batch response (an emulator's "Task timed
// out" text). An empty or null response means every record succeeded.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return events.SQSEventResponse{}, fmt.Errorf("encode the batch for %s: %w", h.FunctionName, err)
	}
	out, err := h.Client.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(h.FunctionName),
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        payload,
	})
	if err != nil {
		return events.SQSEventResponse{}, fmt.Errorf("invoke %s: %w", h.FunctionName, err)
	}
	return decode(h.FunctionName, out)
}

// FunctionError is an invocation that ran and failed: the function returned
// an error, panicked, timed out or ran out of memory.
type FunctionError struct {
	Function string
	// Kind is X-Amz-Function-Error (Unhandled, Handled), or "" when an
	// emulator returned an error payload without the header.
	Kind    string
	Type    string // errorType
	Message string // errorMessage
}

func (e *FunctionError) Error() string {
	kind := e.Kind
	if kind == "" {
		kind = "error payload"
	}
	return fmt.Sprintf("function %s failed (%s): %s: %s", e.Function, kind, e.Type, e.Message)
}

// errorPayload is what the runtimes send back for a failed invocation.
type errorPayload struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func decode(fn string, out *lambda.InvokeOutput) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	if out.FunctionError != nil {
		var p errorPayload
		if json.Unmarshal(out.Payload, &p) != nil {
			p.Message = string(excerpt(out.Payload))
		}
		return resp, &FunctionError{Function: fn, Kind: *out.FunctionError, Type: p.Type, Message: p.Message}
	}
	if out.StatusCode != 0 && (out.StatusCode < 200 || out.StatusCode > 299) {
		return resp, fmt.Errorf("invoke %s: status %d: %s", fn, out.StatusCode, excerpt(out.Payload))
	}
	body := bytes.TrimSpace(out.Payload)
	if len(body) == 0 || bytes.Equal(body, []byte("null")) {
		return resp, nil
	}
	// The RIE and some versions of sam local return a handler's error
	// with status 200 and no X-Amz-Function-Error header.
	var p errorPayload
	if json.Unmarshal(body, &p) == nil && p.Type != "" {
		return resp, &FunctionError{Function: fn, Type: p.Type, Message: p.Message}
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return events.SQSEventResponse{}, fmt.Errorf("invoke %s: the response is not a partial batch response: %w: %s", fn, err, excerpt(body))
	}
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == "" {
			// As Lambda does: an empty identifier fails the whole batch.
			return events.SQSEventResponse{}, fmt.Errorf("invoke %s: batchItemFailures has an empty itemIdentifier", fn)
		}
	}
	return resp, nil
}

// excerpt returns at most the first 200 bytes of b, for messages.
func excerpt(b []byte) []byte {
	if len(b) > 200 {
		return append(b[:200:200], "..."...)
	}
	return b
}

// DialTimeout bounds connecting to the endpoint.
const DialTimeout = 2 * time.Second

// NewClient returns a Lambda client for the handler. endpoint is the Invoke
// API's base URL, such as http://127.0.0.1:3001 for sam local
// start-lambda; empty for the endpoint the configuration resolves
// (AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL, or real Lambda). It makes one
// attempt per batch (SQS redelivery is the retry, as for the event source
// mapping) and sets no overall HTTP timeout: the caller's context bounds
// each invocation, which may run for the function's whole timeout.
func NewClient(cfg aws.Config, endpoint string) *lambda.Client {
	httpClient := awshttp.NewBuildableClient().
		WithTimeout(0).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = DialTimeout })
	return lambda.NewFromConfig(cfg, func(lo *lambda.Options) {
		lo.HTTPClient = httpClient
		lo.RetryMaxAttempts = 1
		if endpoint != "" {
			lo.BaseEndpoint = aws.String(endpoint)
		}
	})
}
