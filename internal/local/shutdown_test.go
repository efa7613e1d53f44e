package local_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asyncprime/asyncprime/internal/local"
	"github.com/asyncprime/asyncprime/internal/memory"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A client that never finishes its request does not turn a graceful stop
// into an error: Serve closes its connection after the shutdown timeout,
// says so, and returns nil.
func TestShutdownCutsSlowClientsAndSucceeds(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	q := memory.NewQueue(memory.QueueOptions{})
	sys := local.NewSystem(testConfig(), memory.NewStore(), q, log)
	sys.ShutdownTimeout = 50 * time.Millisecond // the slow client never finishes, so any wait runs out

	ctx, cancel := context.WithCancel(t.Context())
	addrs := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() { served <- sys.Serve(ctx, "127.0.0.1:0", log, func(a net.Addr) { addrs <- a }) }()
	addr := (<-addrs).String()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Headers and part of the body: the request is in progress.
	if _, err := io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"num"); err != nil {
		t.Fatal(err)
	}
	// The server accepts connections in order, so once a second connection
	// is answered, the first is the server's.
	resp, err := http.Get("http://" + addr + "/no-such-task")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v; want nil after cutting the slow client", err)
	}
	if got := logs.String(); !strings.Contains(got, "closed connections whose requests had not finished") || strings.Contains(got, "connections=0") {
		t.Errorf("logs do not say which connections were cut short:\n%s", got)
	}
}
