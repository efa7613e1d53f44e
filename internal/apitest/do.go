package apitest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// Do sends a request with body as JSON (Content-Type: application/json)
// and the given headers, checks the answer against openapi.yaml
// (CheckHTTP), and returns it, its body closed, with the body.
func Do(t testing.TB, method, url, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	CheckHTTP(t, resp)
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}
