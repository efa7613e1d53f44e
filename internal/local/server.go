package local

import (
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Limits of the local HTTP front, as API Gateway's.
const (
	// MaxHeaderBytes caps a request's headers (API Gateway's limit is
	// 10 KB). Go's server allows 4 KiB more than this and answers 431
	// beyond.
	MaxHeaderBytes = 16 << 10
	// MaxDrainBytes is how much of an oversized body the front reads and
	// discards before it answers 413: API Gateway's 10 MB payload limit.
	// A client that writes its whole body before reading the answer (most
	// do) would otherwise see the connection reset and never the 413.
	// Beyond it the connection is closed after the answer.
	MaxDrainBytes = 10 << 20
	// DrainTimeout bounds the time spent discarding an oversized body.
	DrainTimeout = 30 * time.Second
)

// NewHTTPServer returns the server the local mode runs h with: bounded
// header size and read, write and idle times.
func NewHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		MaxHeaderBytes:    MaxHeaderBytes,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// drain reads and discards the rest of an oversized body, up to
// MaxDrainBytes and DrainTimeout, so that the client reads the answer
// rather than a reset. If more is left, the connection closes after the
// answer.
func drain(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(DrainTimeout))
	n, err := io.CopyN(io.Discard, r.Body, MaxDrainBytes)
	if err == nil && n == MaxDrainBytes {
		w.Header().Set("Connection", "close")
	}
}
