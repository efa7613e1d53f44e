// Package apitest checks HTTP responses against the API's contract,
// openapi.yaml at the repository root: the handler, local-mode and
// end-to-end tests call CheckResponse on every answer they get. It is
// test support: run code never imports it.
package apitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/asyncprime/asyncprime"
)

var load = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := Spec()
	if err != nil {
		return nil, err
	}
	// Match any host: the tests listen on loopback ports of their own.
	doc.Servers = nil
	return doc, nil
})

var router = sync.OnceValues(func() (routers.Router, error) {
	doc, err := load()
	if err != nil {
		return nil, err
	}
	return legacy.NewRouter(doc)
})

// Spec loads and validates openapi.yaml.
func Spec() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(asyncprime.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not a valid OpenAPI 3 document: %w", err)
	}
	return doc, nil
}

// CheckResponse fails t unless the response (status, headers, body) is one
// openapi.yaml allows for method and path. A path the spec does not name
// (the $default route) must be a 404 with a JSON error.
func CheckResponse(t testing.TB, method, path string, status int, header http.Header, body []byte) {
	t.Helper()
	if err := Validate(method, path, status, header, body); err != nil {
		t.Errorf("%s %s answered %d %s: not as openapi.yaml says: %v", method, path, status, excerpt(body), err)
	}
}

// CheckEvent is CheckResponse for a Lambda response event.
func CheckEvent(t testing.TB, method, path string, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	h := http.Header{}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	CheckResponse(t, method, path, resp.StatusCode, h, []byte(resp.Body))
}

// CheckHTTP is CheckResponse for an *http.Response; it reads and restores
// the body.
func CheckHTTP(t testing.TB, resp *http.Response) {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	CheckResponse(t, resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, resp.Header, b)
}

// Validate returns why the response does not match openapi.yaml, or nil.
func Validate(method, path string, status int, header http.Header, body []byte) error {
	r, err := router()
	if err != nil {
		return err
	}
	req := httptest.NewRequest(method, path, nil)
	route, params, err := r.FindRoute(req)
	if err == nil && path == "/" && route.Path != "/" {
		// The router lets "/" match /{task_id} with an empty id; API
		// Gateway does not.
		err = fmt.Errorf("method %s not allowed on /", method)
	}
	if err != nil {
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			return fmt.Errorf("no route in openapi.yaml for %s %s (%v), yet the answer is not 404 or 405", method, path, err)
		}
		if !strings.HasPrefix(header.Get("Content-Type"), "application/json") || !bytes.Contains(body, []byte(`"error"`)) {
			return fmt.Errorf("a %d must be a JSON error", status)
		}
		return nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

func excerpt(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
