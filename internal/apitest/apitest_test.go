package apitest_test

import (
	"net/http"
	"testing"

	"github.com/asyncprime/asyncprime/internal/apitest"
)

func TestSpecIsValid(t *testing.T) {
	t.Parallel()
	if _, err := apitest.Spec(); err != nil {
		t.Fatal(err)
	}
}

// TestValidateCatchesDrift checks that the checker refuses answers the
// spec does not allow, so that the tests using it can fail.
func TestValidateCatchesDrift(t *testing.T) {
	t.Parallel()
	const id = "3f2b8c1e-7d4a-4e59-9b1c-2a6f0e8d4c71"
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	withRetry := http.Header{"Content-Type": {"application/json"}, "Retry-After": {"1"}}
	tests := []struct {
		name         string
		method, path string
		status       int
		header       http.Header
		body         string
		ok           bool
	}{
		{name: "202 single", method: "POST", path: "/", status: 202, header: withRetry, body: `{"status":"success","task_id":"` + id + `"}`, ok: true},
		{name: "202 batch", method: "POST", path: "/", status: 202, header: withRetry, body: `{"status":"success","task_ids":["` + id + `"]}`, ok: true},
		{name: "202 with an unknown field", method: "POST", path: "/", status: 202, header: withRetry, body: `{"status":"success","task_id":"` + id + `","x":1}`},
		{name: "undocumented status", method: "POST", path: "/", status: 418, header: jsonHeader, body: `{"error":"teapot"}`},
		{name: "task with unknown state", method: "GET", path: "/" + id, status: 200, header: jsonHeader, body: `{"task_id":"` + id + `","status":"DONE","result":null,"attempts":0,"created_at":null,"started_at":null,"finished_at":null}`},
		{name: "revoked task", method: "DELETE", path: "/" + id, status: 200, header: jsonHeader, body: `{"task_id":"` + id + `","status":"REVOKED","result":null,"attempts":0,"created_at":"2026-11-24T12:00:00Z","started_at":null,"finished_at":"2026-11-24T12:00:01Z"}`, ok: true},
		{name: "error without error", method: "DELETE", path: "/" + id, status: 409, header: jsonHeader, body: `{"message":"final"}`},
		{name: "other path 404", method: "GET", path: "/a/b", status: 404, header: jsonHeader, body: `{"error":"no"}`, ok: true},
		{name: "other path 200", method: "GET", path: "/a/b", status: 200, header: jsonHeader, body: `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := apitest.Validate(tt.method, tt.path, tt.status, tt.header, []byte(tt.body))
			if (err == nil) != tt.ok {
				t.Errorf("Validate = %v; want ok = %v", err, tt.ok)
			}
		})
	}
}
