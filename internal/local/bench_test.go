package local_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/asyncprime/asyncprime/internal/api"
	"github.com/asyncprime/asyncprime/internal/local"
)

// BenchmarkRequestPath measures one request through the local mode's HTTP
// handler, with the durable backend (bolt, so a submit includes its
// fsync'd commit) and a logger that formats every line at the default
// level (INFO) as `make run` does, into io.Discard. Compare allocs/op; on
// a loaded machine ns/op is noisy.
//
//	go test -run '^$' -bench RequestPath -benchmem ./internal/local
func BenchmarkRequestPath(b *testing.B) {
	cfg := testConfig()
	cfg.Backend, cfg.DataDir = "bolt", b.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	be, err := local.OpenBackend(b.Context(), cfg, log)
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	h := local.NewSystem(cfg, be, log).API

	post := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"number": 1000003}`))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	b.Run("submit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if w := post(); w.Code != http.StatusAccepted {
				b.Fatalf("POST / = %d %s", w.Code, w.Body)
			}
		}
	})
	var accepted api.SubmitResponse
	json.Unmarshal(post().Body.Bytes(), &accepted)
	b.Run("status", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/"+accepted.TaskID, nil))
			if w.Code != http.StatusOK {
				b.Fatalf("GET = %d %s", w.Code, w.Body)
			}
		}
	})
}
