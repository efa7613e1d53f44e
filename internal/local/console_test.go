package local_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/memory"
)

// TestBrowserAtRootGoesToTheConsole: a browser that opens / lands on the
// console; an API client gets the API's answer, as on AWS.
func TestBrowserAtRootGoesToTheConsole(t *testing.T) {
	t.Parallel()
	sys := local.NewSystem(testConfig(), &local.Backend{Store: memory.NewStore(), Queue: memory.NewQueue(memory.QueueOptions{})}, quiet())
	h := sys.Handler()
	browser := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	tests := []struct {
		method, path, accept string
		want                 int
		wantLocation         string
	}{
		{"GET", "/", browser, http.StatusSeeOther, "/console/"},
		{"HEAD", "/", "TEXT/HTML", http.StatusSeeOther, "/console/"},
		{"GET", "/", "*/*", http.StatusMethodNotAllowed, ""},                               // curl
		{"GET", "/", "application/json, */*;q=0.5", http.StatusMethodNotAllowed, ""},       // HTTPie
		{"GET", "/", "", http.StatusMethodNotAllowed, ""},                                  // no Accept
		{"POST", "/", browser, http.StatusBadRequest, ""},                                  // a POST stays the API's (its body is empty)
		{"GET", "/01a2384b-d7ed-7c11-9d01-2facf33469e5", browser, http.StatusNotFound, ""}, // a task id stays the API's
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(""))
		if tt.accept != "" {
			r.Header.Set("Accept", tt.accept)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want || w.Header().Get("Location") != tt.wantLocation {
			t.Errorf("%s %s (Accept %q) = %d, Location %q; want %d, %q", tt.method, tt.path, tt.accept, w.Code, w.Header().Get("Location"), tt.want, tt.wantLocation)
		}
	}
}
